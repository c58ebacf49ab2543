"""Whom a round brings together: strangers across two pockets, newcomers with veterans, and what
the staff hear when Discord has nowhere to open the groups' threads."""

from __future__ import annotations

import pytest

from sandbox.discord import Permission
from sandbox.scenario import Community, DiscordCommunity, SlackCommunity, replies


def _groups(community: Community, names: list[str]) -> set[frozenset[str]]:
    """Each person's latest group, read from the introduction they were shown."""
    found = set()
    for name in names:
        intros = [
            m
            for c in community.groups_of(community.people[name])
            for m in c
            if "Meet each other" in m.text
        ]
        head = community.readable(intros[-1].text).split("!")[0]
        found.add(frozenset(n for n in community.people if f"@{n}" in head))
    return found


async def _setup(community: Community) -> None:
    settings = {"history_rounds": "0"}
    if community.platform == "discord":
        settings["thread_channel"] = community.channel_mention("general")
    await community.configure("introductions", **settings)


async def test_a_round_joins_two_pockets_that_never_talked(community: Community) -> None:
    for name in ("ann", "art", "bea", "ben"):
        await community.member_joins(name)
    await _setup(community)
    pockets = (["olivia", "ada", "ann", "art"], ["alice", "bob", "bea", "ben"])
    people = community.people
    for pocket in pockets:  # everyone mentions everyone in their own pocket
        for name in pocket:
            others = " ".join(community.mention(people[o]) for o in pocket if o != name)
            await community.says(people[name], f"thanks {others}!")
    for name in [*pockets[0], *pockets[1]]:
        await community.slash(people[name], "introductions join")
    now = await community.slash(people["ada"], "introductions round now")
    assert "A round starts now" in now.text
    await community.advance(seconds=1)
    groups = _groups(community, [*pockets[0], *pockets[1]])
    assert len(groups) == 4
    for group in groups:  # each pair has one member of each pocket
        assert len(group & set(pockets[0])) == 1 and len(group & set(pockets[1])) == 1, group
    # Rounds run back to back by a manager: nobody had time to answer, so nobody is a ghost.
    for _ in range(3):
        await community.slash(people["ada"], "introductions round now")
        await community.advance(seconds=1)
    assert len(community.groups_of(people["ann"])) >= 2  # the rounds did run
    for name in [*pockets[0], *pockets[1]]:
        assert not [m for m in community.dms_of(people[name]) if "paused yours" in m.text]


async def test_cross_mode_introduces_newcomers_to_established_members(community: Community) -> None:
    await _setup(community)
    await community.configure("introductions", mode="cross", newcomer_days="1")
    for name in ("vic", "val"):
        await community.member_joins(name)
    await community.advance(days=2)  # vic and val are established by now
    newcomers = ["nina", "noah", "nell", "ned", "nora", "nick"]
    for name in newcomers:
        await community.member_joins(name)
    veterans = ["olivia", "alice", "bob", "ada", "vic", "val"]
    for name in veterans + newcomers:
        await community.slash(community.people[name], "introductions join")
    await community.slash(community.people["ada"], "introductions round now")
    await community.advance(seconds=1)
    groups = _groups(community, veterans + newcomers)
    assert len(groups) == 6
    for group in groups:
        assert len(group & set(newcomers)) == 1 and len(group & set(veterans)) == 1, group


# Only on Discord: Slack opens group DMs without a channel.
@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_discord_without_a_thread_channel_tells_the_staff_once_then_catches_up(
    community: Community,
) -> None:
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    names = ["olivia", "ada", "alice", "bob"]
    for name in names:
        await community.slash(community.people[name], "introductions join")
    await community.slash(community.people["ada"], "introductions start")
    await community.advance(hours=1)
    told = [m for m in community.messages_in("mods") if "Introductions couldn't open" in m.text]
    assert len(told) == 1 and "thread_channel" in told[0].text
    assert not any(community.groups_of(community.people[n]) for n in names)
    await community.configure("introductions", thread_channel=community.channel_mention("general"))
    await community.advance(days=3, hours=12)  # the midway check-in tries again
    assert len(_groups(community, names)) == 2
    for name in names:
        (conversation,) = community.groups_of(community.people[name])
        assert [m.text.split("!")[0][:4] for m in conversation][-1].startswith("Half")


async def _says_in_group(community: Community, name: str, text: str) -> None:
    """A member posts in their latest group's conversation (Slack group DM, Discord thread)."""
    person = community.people[name]
    first = community.groups_of(person)[-1][0].raw
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        await fake.user_says(person.account, fake.world.channels[first.channel_id], text)
    else:
        await fake.user_says(person.account, first.channel, text)
    await community.settle()


async def test_replies_and_group_conversations_count_as_talking(community: Community) -> None:
    await _setup(community)
    names = ["olivia", "ada", "alice", "bob"]
    for name in names:
        await community.slash(community.people[name], "introductions join")
    await community.slash(community.people["ada"], "introductions round now")
    await community.advance(seconds=1)
    (first, other) = sorted(_groups(community, names), key=lambda g: "alice" not in g)
    a, b = sorted(first)
    c, d = sorted(other)

    async def kept_talking() -> str:
        stats = await community.slash(community.people["ada"], "introductions stats")
        return stats.text.splitlines()[-1]

    assert await kept_talking() == "Pairs who talked in the community after meeting: 0."
    await community.advance(minutes=5)
    # A reply links the two: on Discord one that doesn't ping (no mention), on Slack a reply
    # in the message's thread (the message itself is not in the thread).
    hello = await community.says(community.people[a], "hello everyone")
    if isinstance(community, DiscordCommunity):
        channel = community.fake.world.channels[hello.raw.channel_id]
        replier = community.people[b].account
        await community.fake.user_says(
            replier, channel, "hi there", reply_to=hello.raw, ping_author=False
        )
        await community.settle()
    else:
        await replies(community, community.people[b], hello, "hi there")
    assert await kept_talking() == "Pairs who talked in the community after meeting: 1."
    # Two members of a group who both post in its conversation have talked too.
    await _says_in_group(community, c, "Hi! Free on Thursday?")
    await _says_in_group(community, d, "Thursday works")
    assert await kept_talking() == "Pairs who talked in the community after meeting: 2."


def _channel_of(community: Community, name: str, members: list[str]) -> str:
    """A channel only these people are in (Slack) or can view (Discord); its mention."""
    people = [community.people[n] for n in members]
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        guild = community.guild
        channel = fake.add_channel(guild, name)
        fake.set_overwrite(channel, guild.everyone, deny=Permission.VIEW_CHANNEL)
        for person in people:
            fake.set_overwrite(channel, person.account, allow=Permission.VIEW_CHANNEL)
    else:
        assert isinstance(community, SlackCommunity)
        community.channels[name] = fake.add_channel(name, members=[p.account for p in people])
    return community.channel_mention(name)


async def test_the_pool_is_the_members_of_a_channel(community: Community) -> None:
    for name in ("carol", "dan", "erin"):
        await community.member_joins(name)
    await _setup(community)
    coffee = _channel_of(community, "coffee", ["alice", "bob", "carol", "dan"])
    await community.configure("introductions", pool_channel=coffee)
    people = community.people
    me = await community.slash(people["carol"], "introductions me")
    assert "You're in the pool for the next round" in me.text  # never typed join
    left = await community.slash(people["bob"], "introductions leave")
    assert "You've left the introductions pool" in left.text
    paused = await community.slash(people["dan"], "introductions pause")
    assert "Paused until you come back" in paused.text
    outside = await community.slash(people["erin"], "introductions me")
    assert "You're not in the introductions pool" in outside.text
    await community.slash(people["erin"], "introductions join")  # from outside the channel
    await community.slash(people["ada"], "introductions round now")
    await community.advance(seconds=1)
    # bob left and dan is paused; alice and carol come from the channel, erin joined herself.
    # On Discord the owner sees every channel, so olivia is one of its members too.
    expected = {"alice", "carol", "erin"}
    if community.platform == "discord":
        expected.add("olivia")
    assert set().union(*_groups(community, sorted(expected))) == expected
    for name in {"bob", "dan", "olivia", "ada"} - expected:
        assert not community.groups_of(people[name]), name
    again = await community.slash(people["bob"], "introductions me")
    assert "You're not in the introductions pool" in again.text
    overview = await community.slash(people["ada"], "introductions settings")
    assert "Pool: members who join, and everyone in #coffee." in community.readable(overview.text)
    stats = await community.slash(people["ada"], "introductions stats")
    in_pool = len(expected) + 1  # dan is paused
    assert f"{in_pool} members in the pool ({in_pool - 1} not paused)" in stats.text
