"""Catch-up's view of a channel: history through the real discord.py, reactions included."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.discord import history
from bot.core import ChannelRef, CommunityRef, MessagePosted
from tests.adapters.discord.world import World


async def test_history_brings_each_message_with_who_reacted(world: World) -> None:
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    first = await fake.user_says(world.alice, general, "the cursor")
    said = await fake.user_says(world.alice, general, "new release")
    await fake.react(world.admin, said, "🎉")
    await fake.react(world.alice, said, "🎉")
    await fake.react(world.admin, said, "👀")
    later = await fake.user_says(world.admin, general, "nobody reacted")
    where = ChannelRef(CommunityRef("discord", guild.id), general.id)

    found = await history.fetch_history(world.app.discord.bot, where, first.id, 100)
    shown = [
        (e.message.id, "posted", e.author.ref.id)
        if isinstance(e, MessagePosted)
        else (e.message.id, e.emoji, e.user.id)
        for e in found
    ]
    # Each message, then its reactions (Discord lists who reacted by user id).
    assert shown[0] == (said.id, "posted", world.alice.id)
    assert sorted(shown[1:4]) == sorted(
        [
            (said.id, "🎉", world.admin.id),
            (said.id, "🎉", world.alice.id),
            (said.id, "👀", world.admin.id),
        ]
    )
    assert shown[4:] == [(later.id, "posted", world.admin.id)]
    # Reactions count when their message was posted: Discord doesn't say when they came.
    assert {e.at for e in found if e.message.id == said.id} == {found[0].at}


async def test_a_message_deleted_before_its_reactions_are_read_still_counts(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    said = await fake.user_says(world.alice, general, "going, going")
    await fake.react(world.admin, said, "👋")
    [message] = [m async for m in world.app.discord.bot.get_channel(int(general.id)).history()]
    await fake.user_deletes(said)

    posted = history.to_posted(message, int(guild.id))
    with caplog.at_level(logging.WARNING, logger="steward.discord"):
        assert await history.reactions_of(world.app.discord.bot, message, posted) == []
    assert f"reactions of message {said.id} not read back: 404" in caplog.text
