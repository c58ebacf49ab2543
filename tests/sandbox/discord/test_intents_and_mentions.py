"""Privileged intents (content blanking, 4014) and who a message actually pings."""

from __future__ import annotations

import discord
import pytest

from sandbox.discord import FakeDiscord, Intent
from tests.sandbox.discord.conftest import StartBot
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_without_message_content_intent_content_is_blanked(
    start_bot: StartBot, fake_discord: FakeDiscord, world: World
) -> None:
    intents = discord.Intents.default()
    intents.members = True
    bot = await start_bot(intents=intents)
    await fake_discord.user_says(world.alice, world.general, "secret plans")
    await fake_discord.user_says(world.alice, world.general, f"hey {fake_discord.bot.mention}")
    await fake_discord.user_dms_bot(world.alice, "dm text")
    await fake_discord.settle()
    assert [m.content for m in bot.seen] == ["", f"hey {fake_discord.bot.mention}", "dm text"]


async def test_privileged_intent_not_enabled_closes_with_4014(
    start_bot: StartBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.app.enabled_privileged_intents = Intent.GUILD_MEMBERS
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await start_bot()
    assert 4014 in fake_discord.gateway.close_codes


async def test_allowed_mentions_none_pings_nobody(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    await fake_discord.user_says(world.alice, world.general, "!quiet")
    await fake_discord.settle()
    reply = fake_discord.messages_in(world.general)[-1]
    assert reply.content == f"hi {world.alice.mention}"
    assert reply.mentions == [] and reply.mention_roles == [] and not reply.mention_everyone
    assert reply not in fake_discord.pings_of(world.alice)


async def test_default_mentions_ping_the_user(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    await fake_discord.user_says(world.alice, world.general, "!loud")
    await fake_discord.settle()
    reply = fake_discord.messages_in(world.general)[-1]
    assert reply.mentions == [world.alice.id]
    assert reply in fake_discord.pings_of(world.alice)
