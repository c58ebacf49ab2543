"""Private threads as Discord makes them: a group's conversation for introductions."""

from __future__ import annotations

import pytest

from bot.adapters.discord.port import DiscordPort, MissingPermission
from bot.core import ChannelRef, CommunityRef, Message, UserRef
from sandbox.discord import FakeDiscord, Permission
from tests.sandbox.discord.steward_testbot import StewardTestBot, World

PRIVATE_THREAD = 12


async def test_a_private_thread_is_seen_by_the_members_added_alone(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    carol = fake_discord.add_user("carol")
    fake_discord.add_member(world.guild, carol)
    community = CommunityRef("discord", world.guild.id)
    port = DiscordPort(bot)
    users = [UserRef(community, world.alice.id), UserRef(community, world.bob.id)]
    where = await port.open_group(
        users, name="Say hello", parent=ChannelRef(community, world.general.id)
    )
    thread = fake_discord.world.channels[where.id]
    assert thread.type == PRIVATE_THREAD and thread.parent_id == world.general.id
    assert thread.thread_members == {fake_discord.bot.id, world.alice.id, world.bob.id}
    await port.send(where, Message(text="hello, you two"))
    await fake_discord.settle()
    assert [m.content for m in fake_discord.sees(world.alice, thread)] == ["hello, you two"]
    assert [m.content for m in fake_discord.sees(world.bob, thread)] == ["hello, you two"]
    assert fake_discord.sees(carol, thread) == []  # in the guild and #general, not in the thread
    opened = [r for r in fake_discord.requests if r.operation_id == "create_thread"]
    added = [r for r in fake_discord.requests if r.operation_id == "add_thread_member"]
    assert [r.status for r in opened] == [201] and [r.status for r in added] == [204, 204]


async def test_no_private_thread_without_the_permission(
    start_bot: object, fake_discord: FakeDiscord, world: World
) -> None:
    role = fake_discord.bot_role(world.guild)
    role.permissions &= ~int(Permission.CREATE_PRIVATE_THREADS)
    bot = await start_bot()  # type: ignore[operator]
    community = CommunityRef("discord", world.guild.id)
    users = [UserRef(community, world.alice.id), UserRef(community, world.bob.id)]
    with pytest.raises(MissingPermission):
        await DiscordPort(bot).open_group(
            users, name="Say hello", parent=ChannelRef(community, world.general.id)
        )
    assert not [c for c in fake_discord.world.channels.values() if c.type == PRIVATE_THREAD]


async def test_a_stranger_cannot_be_added_to_a_thread(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    community = CommunityRef("discord", world.guild.id)
    outsider = fake_discord.add_user("outsider")  # not in the guild
    users = [UserRef(community, world.alice.id), UserRef(community, outsider.id)]
    with pytest.raises(Exception, match="no longer exists"):
        await DiscordPort(bot).open_group(
            users, name="Say hello", parent=ChannelRef(community, world.general.id)
        )
