"""Appeals and returns: the member appeals once from their notice, a moderator decides, the
member is told; a member with cases who comes back is flagged to the staff."""

from __future__ import annotations

import asyncio
import re

import pytest

from sandbox.scenario import Community, DiscordCommunity, Person, Posted


def _appeal_post(community: Community) -> Posted:
    posts = [m for m in community.messages_in("mods") if community.offers(m, "overturn")]
    assert len(posts) == 1
    return posts[0]


async def _decided_post(community: Community) -> str:
    """The staff's post of the appeal once decided: what it reads (it offers nothing to press)."""
    await community.settle()
    posts = [m for m in community.messages_in("mods") if " appeals the " in m.text]
    assert len(posts) == 1
    assert not community.offers(posts[0], "uphold")
    assert not community.offers(posts[0], "overturn")
    return community.readable(posts[0].text)


def _moves(community: Community, text: str) -> list[str]:
    return [
        line.split(" UTC ")[1] for line in community.readable(text).splitlines() if " UTC " in line
    ]


async def test_a_warned_member_appeals_once_and_hears_it_was_upheld(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation warn", member=bob, reason="spam links")
    notice = community.dms_of(bob)[-1]
    assert "press Appeal below (once)" in notice.text and community.offers(notice, "appeal")
    opened = await community.click(bob, notice, "appeal")
    assert opened.form is not None
    filed = await community.submit(bob, opened, {"why": "they were docs links"})
    assert filed.ephemeral and filed.text.startswith(
        "Your appeal of case #1 went to the moderators."
    )
    post = _appeal_post(community)
    assert community.readable(post.text).endswith(
        "Case #1: @bob appeals the warn (spam links): they were docs links"
    )
    again = await community.click(bob, notice, "appeal")
    assert again.form is None and again.text == (
        "You appealed case #1 already (one appeal per case); the moderators haven't decided yet."
    )
    other = await community.slash(carl, "moderation appeal", case=1, why="me too")
    assert other.text == "You can appeal only a case about you; its number is in the notice."
    judged = await community.click(bob, post, "uphold")  # nobody decides on their own case
    assert "upheld" not in judged.text
    upheld = await community.click(alice, post, "uphold")
    assert community.readable(upheld.text) == "Case #1: appeal upheld; @bob is told."
    assert await _decided_post(community) == (
        "Case #1: @bob appeals the warn (spam links): they were docs links\nUpheld by @alice."
    )
    told = [m.text for m in community.dms_of(bob) if "About your appeal" in m.text]
    assert len(told) == 1 and "upheld it: it stands" in told[0]
    answer = await community.click(bob, notice, "appeal")
    assert answer.text.startswith("The moderators looked again at case #1 and upheld it")
    shown = await community.slash(alice, "moderation case", number=1)
    assert _moves(community, shown.text) == [
        "action by @alice: open → actioned",
        "appeal by @bob: actioned → appealed (they were docs links)",
        "uphold by @alice: appealed → upheld",
        "close by @alice: upheld → closed",
    ]
    assert "void" not in community.readable(shown.text)  # upheld: the points still count
    mods = [community.readable(m.text) for m in community.messages_in("mods")]
    log = [t for t in mods if t.startswith("Case #1: warn\n")]
    assert len(log) == 1  # the case's one mod-log post, edited as it moved
    assert "#1 warn @bob by @alice, 1 pt: spam links [closed]" in log[0]
    assert _moves(community, log[0])[1:] == _moves(community, shown.text)[1:]
    assert log[0].endswith("Last change: appeal upheld by @alice")


async def test_an_overturned_action_is_lifted_voided_and_the_member_told(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    if isinstance(community, DiscordCommunity):
        await community.slash(alice, "moderation ban", member=bob, reason="raid links")
        assert bob.id in community.guild.bans and bob.id not in community.guild.members
        # The DM came before the ban; its button still works for bob, who is not a member.
        notice = community.dms_of(bob)[-1]
        opened = await community.click(bob, notice, "appeal")
        assert opened.form is not None
        filed = await community.submit(bob, opened, {"why": "my account was stolen"})
        with pytest.raises(PermissionError):  # as on Discord: nobody else sees bob's DMs
            await community.click(community.people["ada"], notice, "appeal")
        with pytest.raises(PermissionError):  # nor can a banned member join again
            await community.rejoins(bob)
    else:
        # Slack apps cannot time out: a workspace admin acts, a moderator marks it done.
        await community.slash(alice, "moderation timeout", member=bob, duration="1d", reason="raid")
        asked = next(m for m in community.messages_in("mods") if community.offers(m, "done"))
        await community.click(alice, asked, "done")
        filed = await community.slash(bob, "moderation appeal", case=1, why="my account was stolen")
    assert filed.text.startswith("Your appeal of case #1 went to the moderators.")
    overturned = await community.click(alice, _appeal_post(community), "overturn")
    said = community.readable(overturned.text)
    assert said.startswith("Case #1: appeal overturned; @bob is told.")
    assert (await _decided_post(community)).endswith("\nOverturned by @alice.")
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "Status: closed (void: overturned on appeal)" in shown
    assert "overturn by @alice: appealed → overturned" in shown
    if isinstance(community, DiscordCommunity):
        assert said.endswith("Case #2: lifted the ban of case #1 on @bob.")
        assert bob.id not in community.guild.bans
        # Discord lets a bot message only people who share a server with it: the answer waits
        # behind the Appeal button.
        assert not [m for m in community.dms_of(bob) if "About your appeal" in m.text]
        answer = await community.click(bob, notice, "appeal")
        assert answer.text.startswith("The moderators looked again at case #1 and overturned it")
        assert "The ban is lifted" in answer.text
        await community.rejoins(bob)  # an overturned case no longer counts: no flag
        assert not [m for m in community.messages_in("mods") if "is back" in m.text]
    else:
        assert said.endswith("Case #2 asks a workspace admin to reactivate the account.")
        asked = [m for m in community.messages_in("mods") if community.offers(m, "done")]
        assert "Case #2: case #1 was overturned" in community.readable(asked[-1].text)
        told = [m.text for m in community.dms_of(bob) if "About your appeal" in m.text]
        assert len(told) == 1 and "overturned it: it no longer counts against you" in told[0]


async def test_two_moderators_deciding_at_once_one_wins_and_the_other_is_told(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation warn", member=bob, reason="rude")
    await community.slash(bob, "moderation appeal", case=1, why="it was a joke")
    post = _appeal_post(community)
    first, second = await asyncio.gather(
        community.click(alice, post, "overturn"), community.click(ada, post, "uphold")
    )
    said = sorted(community.readable(s.text) for s in (first, second))
    winner = [s for s in said if s.startswith("Case #1: appeal")]
    loser = [s for s in said if s.startswith("Someone got there first")]
    assert len(winner) == 1 and len(loser) == 1, said
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    decided = [m for m in _moves(community, shown) if m.startswith(("uphold", "overturn"))]
    assert len(decided) == 1
    told = [m.text for m in community.dms_of(bob) if "About your appeal" in m.text]
    assert len(told) == 1


async def test_a_timeouts_end_is_written_on_its_case(community: Community, alice: Person) -> None:
    bob = community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation timeout", member=bob, duration="1h", reason="heated")
    if not isinstance(community, DiscordCommunity):
        asked = next(m for m in community.messages_in("mods") if community.offers(m, "done"))
        await community.click(alice, asked, "done")
    await community.advance(minutes=59)
    shown = await community.slash(alice, "moderation case", number=1)
    assert not [m for m in _moves(community, shown.text) if m.startswith("ended")]
    await community.advance(minutes=1)
    shown = await community.slash(alice, "moderation case", number=1)
    ended = [m for m in _moves(community, shown.text) if m.startswith("ended")]
    if isinstance(community, DiscordCommunity):
        assert ended == ["ended by timer:1: actioned → actioned (timeout ended)"]
        log = [community.readable(m.text) for m in community.messages_in("mods")]
        assert len(log) == 1 and log[0].endswith("Last change: the timeout ended")
    else:
        assert ended == []  # Slack has no timeouts: nothing ends by itself


async def test_a_member_with_recent_cases_who_comes_back_is_flagged_to_the_staff(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation warn", member=bob, reason="rude")
    await community.slash(alice, "moderation kick", member=bob, reason="rude again")
    if not isinstance(community, DiscordCommunity):
        asked = next(m for m in community.messages_in("mods") if community.offers(m, "done"))
        await community.click(alice, asked, "done")
        await community.leaves(bob)  # the admin deactivated the account
    await community.leaves(carl)
    await community.rejoins(carl)  # no cases: nobody is told

    def flagged() -> list[str]:
        return [
            community.readable(m.text) for m in community.messages_in("mods") if "is back" in m.text
        ]

    assert flagged() == []
    await community.rejoins(bob)
    assert len(flagged()) == 1
    assert flagged()[0].endswith(
        "@bob is back in the community, with open or recent cases: #1 warn (actioned), "
        "#2 kick (actioned). `/moderation case <n>` shows one."
    )
    shown = community.readable((await community.slash(alice, "moderation case", number=2)).text)
    # (On Discord the kick's leaving may arrive before the kick is recorded: its status then
    # reads open.)
    assert re.search(r"UTC left by @bob: \w+ → \w+ \(left the community\)", shown)
    assert "returned by @bob: actioned → actioned (came back to the community)" in shown
