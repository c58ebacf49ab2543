"""Slash commands: synced schema, resolved USER options, ephemeral replies, defer + followups."""

from __future__ import annotations

import pytest

from sandbox.discord import FakeDiscord
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_sync_stores_the_guild_commands(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    names = {c.name for c in fake_discord.app.commands[world.guild.id]}
    assert names == {"hello", "slow", "panel", "mod"}


async def test_member_option_is_resolved_and_reply_is_private_to_the_invoker(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    shown = await fake_discord.invoke_slash(world.bob, world.guild, "hello", member=world.alice)
    assert shown.ephemeral and not shown.deferred
    assert shown.content == "hello alice (2 roles)"  # @everyone + Member: resolved as a Member
    assert shown.message in fake_discord.sees(world.bob, world.general)
    assert shown.message not in fake_discord.sees(world.alice, world.general)
    assert shown.message not in fake_discord.messages_in(world.general)
    assert bot.errors == []


async def test_deferred_answer_is_edited_then_followed_up(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    shown = await fake_discord.invoke_slash(world.alice, world.guild, "slow")
    assert shown.deferred and shown.ephemeral
    assert shown.content == "working"
    assert [m.content for m in shown.followups] == ["done"]
    assert shown.text == "working\ndone"


async def test_a_command_the_bot_never_synced_cannot_be_invoked(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    with pytest.raises(LookupError, match="not synced"):
        await fake_discord.invoke_slash(world.alice, world.guild, "nope")
    with pytest.raises(ValueError, match="missing required option"):
        await fake_discord.invoke_slash(world.alice, world.guild, "hello")
