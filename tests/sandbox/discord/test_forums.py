"""Forum channels as Discord keeps them, through discord.py: posts with tags, and the refusals."""

from __future__ import annotations

import discord
import pytest

from sandbox.discord import FakeDiscord, Permission
from tests.sandbox.discord.steward_testbot import StewardTestBot, World

NAMES = ["News", "A", "B", "C", "D", "Staff pick"]


async def test_a_forum_post_is_a_thread_opened_with_its_message_and_tags(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    forum = fake_discord.add_channel(
        world.guild, "releases", type=15, tags=NAMES, moderated=["Staff pick"], require_tag=True
    )
    await fake_discord.settle()
    seen = bot.get_channel(int(forum.id))
    assert isinstance(seen, discord.ForumChannel) and seen.flags.require_tag
    tags = {t.name: t for t in seen.available_tags}
    assert list(tags) == NAMES and tags["Staff pick"].moderated

    made = await seen.create_thread(
        name="Steward 2.0", content="Out now", applied_tags=[tags["News"], tags["A"]]
    )
    await fake_discord.settle()
    assert made.message.id == made.thread.id  # the first message has the thread's id
    thread = fake_discord.world.channels[str(made.thread.id)]
    assert thread.parent_id == forum.id and thread.name == "Steward 2.0"
    assert thread.applied_tags == [str(tags["News"].id), str(tags["A"].id)]
    assert [m.content for m in fake_discord.sees(world.alice, thread)] == ["Out now"]
    cached = bot.get_channel(made.thread.id)
    assert isinstance(cached, discord.Thread) and [t.name for t in cached.applied_tags] == [
        "News",
        "A",
    ]
    assert fake_discord.messages_in(forum) == []

    refusals = [
        ({"applied_tags": []}, 40067),  # the forum requires a tag
        ({"applied_tags": [tags[n] for n in NAMES[:5]] + [tags["Staff pick"]]}, 50035),  # > 5
        ({"applied_tags": [tags["News"]], "content": "x" * 2001}, 50035),  # message rules
    ]
    for extra, code in refusals:
        with pytest.raises(discord.HTTPException) as info:
            await seen.create_thread(name="Refused", **{"content": "x", **extra})
        assert info.value.code == code, extra
    with pytest.raises(discord.HTTPException) as info:
        await bot.get_partial_messageable(int(forum.id)).send("posted in the forum itself")
    assert info.value.code == 50008
    assert [c.name for c in fake_discord.world.channels.values() if c.parent_id == forum.id] == [
        "Steward 2.0"
    ]


async def test_a_forum_post_needs_send_messages_and_a_moderated_tag_manage_threads(
    start_bot: object, fake_discord: FakeDiscord, world: World
) -> None:
    role = fake_discord.bot_role(world.guild)
    role.permissions &= ~int(Permission.MANAGE_THREADS)
    forum = fake_discord.add_channel(
        world.guild, "releases", type=15, tags=NAMES, moderated=NAMES[-1:]
    )
    bot = await start_bot()  # type: ignore[operator]
    seen = bot.get_channel(int(forum.id))
    tags = {t.name: t for t in seen.available_tags}
    with pytest.raises(discord.Forbidden):
        await seen.create_thread(name="Pick", content="x", applied_tags=[tags["Staff pick"]])
    made = await seen.create_thread(name="Plain", content="x", applied_tags=[tags["News"]])
    assert made.thread.name == "Plain"
    fake_discord.set_overwrite(forum, fake_discord.bot, deny=Permission.SEND_MESSAGES)
    await fake_discord.settle()
    with pytest.raises(discord.Forbidden):
        await seen.create_thread(name="Denied", content="x")
