"""DMs (open and closed) and Discord's permission / role-hierarchy refusals."""

from __future__ import annotations

import discord
import pytest

from sandbox.discord import FakeDiscord, Permission
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_bot_dms_a_user(bot: StewardTestBot, fake_discord: FakeDiscord, world: World) -> None:
    await fake_discord.user_says(world.alice, world.general, "!dm")
    await fake_discord.settle()
    assert [m.content for m in fake_discord.dms_of(world.alice)] == ["psst"]


async def test_closed_dms_raise_forbidden_50007(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    world.bob.dms_open = False
    await fake_discord.user_says(world.bob, world.general, "!dm")
    await fake_discord.settle()
    assert fake_discord.dms_of(world.bob) == []
    assert fake_discord.messages_in(world.general)[-1].content == "cannot dm: 50007"
    user = await bot.fetch_user(int(world.bob.id))
    with pytest.raises(discord.Forbidden) as caught:
        await user.send("hello?")
    assert caught.value.code == 50007


async def test_adding_a_role_without_manage_roles_is_refused(
    start_bot: object, fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.bot_role(world.guild).permissions = int(Permission.SEND_MESSAGES)
    bot = await start_bot()  # type: ignore[operator]
    shown = await fake_discord.invoke_slash(
        world.alice, world.guild, "mod promote", member=world.bob, role=world.member_role
    )
    assert shown.content == "forbidden 50013"
    assert world.member_role.id not in world.guild.members[world.bob.id].roles
    assert bot.errors == []


async def test_target_at_or_above_the_bot_is_refused(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    boss = fake_discord.add_role(world.guild, "Boss")  # above the bot's role
    await fake_discord.member_joins(world.guild, fake_discord.add_user("carol"), roles=[boss])
    carol = next(u for u in fake_discord.world.users.values() if u.username == "carol")
    refused = await fake_discord.invoke_slash(
        world.alice, world.guild, "mod promote", member=carol, role=world.member_role
    )
    assert refused.content == "forbidden 50013"
    allowed = await fake_discord.invoke_slash(
        world.alice, world.guild, "mod promote", member=world.bob, role=world.member_role
    )
    assert allowed.content == "promoted bob"
    assert world.member_role.id in world.guild.members[world.bob.id].roles
    role_calls = [r for r in fake_discord.requests if r.operation_id == "add_guild_member_role"]
    assert [(r.status, r.reason) for r in role_calls] == [(403, "promote"), (204, "promote")]


def test_channel_permissions_follow_overwrites(fake_discord: FakeDiscord, world: World) -> None:
    mods = fake_discord.add_channel(world.guild, "mods")
    fake_discord.set_overwrite(mods, world.guild.everyone, deny=Permission.VIEW_CHANNEL)
    fake_discord.set_overwrite(mods, world.member_role, allow=Permission.VIEW_CHANNEL)
    fake_discord.set_overwrite(mods, world.alice, deny=Permission.SEND_MESSAGES)
    alice = fake_discord.permissions_in(mods, world.alice)
    assert alice & Permission.VIEW_CHANNEL and not alice & Permission.SEND_MESSAGES
    assert fake_discord.permissions_in(mods, world.bob) == 0
    assert fake_discord.sees(world.bob, mods) == []


async def test_kick_and_ban_as_discord_py_sends_them(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    guild = bot.get_guild(int(world.guild.id))
    assert guild is not None
    await guild.kick(discord.Object(int(world.bob.id)), reason="spam")
    await guild.ban(discord.Object(int(world.alice.id)), reason="spam", delete_message_seconds=60)
    assert world.bob.id not in world.guild.members and world.alice.id in world.guild.bans
    assert world.guild.bans[world.alice.id].delete_message_seconds == 60
    excused = (
        {e.kind for _, e in fake_discord.validator.excused} if fake_discord.validator else set()
    )
    assert excused == {"request-query", "request-body"}  # the documented ban exceptions
