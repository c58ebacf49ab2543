"""A week in a community where the test knows who said what to whom, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.core import CommunityRef, PlatformReady
from cogs.engagement._models import DAYS, EVENTS, MEMBER_DAYS
from sandbox.discord.ids import snowflake_time
from sandbox.scenario import (
    Community,
    DiscordCommunity,
    Person,
    SlackCommunity,
    replies,
    start_steward,
    stop_steward,
)
from tests.cogs.engagement.conftest import features


def field(text: str, name: str) -> str:
    """The value of a ``name: value`` line in what was shown."""
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line[len(name) + 2 :]
    raise AssertionError(f"no {name!r} in:\n{text}")


def emoji(community: Community, name: str) -> str:
    """The emoji as each platform's client sends it."""
    glyphs = {"thumbsup": "👍", "tada": "🎉", "eyes": "👀"}
    return glyphs[name] if community.platform == "discord" else name


async def _count(community: Community, table: object, **where: str) -> int:
    async with community.app.db.uow() as uow:
        stmt = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for column, value in where.items():
            stmt = stmt.where(table.c[column] == value)
        return int(await uow.session.scalar(stmt) or 0)


async def test_report_matches_what_happened(community: Community) -> None:
    olivia, ada = community.people["olivia"], community.people["ada"]
    alice, bob = community.people["alice"], community.people["bob"]
    # Day 0 (Monday 2026-01-05): alice asks, three people answer, bob asks and nobody answers.
    asked = await community.says(alice, "hi all, how do I set up the bot?")
    await community.advance(minutes=5)
    answer = await replies(community, bob, asked, "you run steward init")
    await replies(community, ada, asked, "see the docs")
    await replies(community, olivia, asked, "welcome aboard")
    meetup = await community.says(bob, "Is anyone going to the meetup?")
    await community.says(alice, "ok", channel="intros")
    await community.reacts(alice, answer, emoji(community, "thumbsup"))
    await community.reacts(bob, meetup, emoji(community, "tada"))
    # Day 1: nina joins and says hello; alice is happy.
    await community.advance(days=1)
    nina = await community.member_joins("nina")
    await community.says(nina, "hello everyone, glad to be here")
    await community.says(alice, "great news, I love it")
    # Day 8: nina is still around.
    await community.advance(days=7)
    await community.says(nina, "still here")

    shown = await community.slash(ada, "engagement report", period="30d")
    text = community.readable(shown.text)
    assert shown.ephemeral
    # Active: alice bob ada olivia on day 0; alice nina on day 1; nina on day 8.
    # DAU 4, 2, 1 over 30 days with MAU 5: stickiness 7 / 30 / 5 = 4.7%.
    assert field(text, "Active members") == "5 posted or reacted; 5 of them posted"
    assert field(text, "WAU / MAU").startswith(
        "1 active in the last 7 days, 5 in the last 30; stickiness 5% (on an average day"
    )
    assert field(text, "Messages") == "9"  # 6 on day 0, 2 on day 1, 1 on day 8
    assert field(text, "Reactions") == "2"
    assert field(text, "Members") == (
        "1 joined, 0 left, net +1; 0 of those who joined have never posted"
    )
    assert field(text, "Questions") == (
        "2 asked, 1 answered (50%); median first answer 5m; 50% answered within 1 hour, "
        "50% within 24 hours"
    )
    assert field(text, "Answered by") == "staff 0%, members 100% (first answers)"
    assert field(text, "Top helpers") == "@bob 1 (first answers to others' questions)"
    assert field(text, "Open questions").startswith("1 open, the oldest asked 8d ")
    # Replies to alice, a member: bob's is peer to peer; ada's and olivia's come from staff.
    assert field(text, "Peer-to-peer replies") == (
        "33% of replies to members came from other members, the rest from staff"
    )
    # alice talked with bob, ada and olivia: one member with 3 partners, one group of 4,
    # and alice bridges it.
    assert field(text, "Reply graph") == (
        "1 member talks with 3+ others; the largest group talking together has 4; "
        "1 member bridges groups (without them a group would split)"
    )
    # nina joined in the week of Jan 5; the week after it is still running on Jan 13.
    assert "week of 2026-01-05: 1 joined; week 1 not over yet, week 2 not over yet" in text
    assert "Sentiment: +" in text

    open_questions = await community.slash(ada, "engagement unanswered")
    lines = community.readable(open_questions.text).splitlines()
    assert lines[0] == "Unanswered questions (1 open, the oldest asked 8d 0h ago):"
    assert len(lines) == 2 and lines[1].startswith("@bob in ")
    if community.platform == "discord":
        assert lines[1].endswith(f"/{meetup.raw.channel_id}/{meetup.raw.id}")
    else:
        assert lines[1].endswith(
            f"/archives/{meetup.raw.channel}/p{meetup.raw.ts.replace('.', '')}"
        )

    mine = await community.slash(alice, "engagement me", period="30d")
    assert mine.ephemeral
    assert field(mine.text, "Messages") == "3"
    assert field(mine.text, "Questions") == "1"
    assert field(mine.text, "Reactions") == "1"
    assert field(mine.text, "Active days") == "2"
    refused = await community.slash(alice, "engagement report")
    assert refused.ephemeral and "moderator" in refused.text


async def test_opting_out_deletes_and_stops_tracking(community: Community) -> None:
    alice, bob, ada = community.people["alice"], community.people["bob"], community.people["ada"]
    asked = await community.says(bob, "where are the docs?")
    await replies(community, alice, asked, "in the wiki")
    await community.reacts(bob, asked, emoji(community, "eyes"))
    assert await _count(community, EVENTS, user_id=bob.id) == 2  # his question, his reaction

    done = await community.slash(bob, "engagement optout")
    assert done.ephemeral and "deleted" in done.text
    assert await _count(community, EVENTS, user_id=bob.id) == 0
    assert await _count(community, MEMBER_DAYS, user_id=bob.id) == 0
    await community.says(bob, "am I still counted?")
    assert await _count(community, EVENTS, user_id=bob.id) == 0
    async with community.app.db.uow() as uow:
        days = (await uow.session.execute(select(DAYS.c.active, DAYS.c.messages))).all()
    assert [tuple(d) for d in days] == [(1, 1)]  # alice's answer; bob's day is taken back

    shown = await community.slash(ada, "engagement report", period="7d")
    assert field(shown.text, "Messages") == "1"
    assert field(shown.text, "Active members").startswith("1 posted or reacted")
    exported = await community.slash(ada, "engagement export")
    assert exported.ephemeral


async def _says_while_down(
    community: Community, person: Person, text: str, channel: str = "general", to: Any = None
) -> Any:
    """Post straight into the fake: nobody is connected to deliver it to, so nothing settles."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        where = community.guild.channel_named(channel)
        return await fake.user_says(person.account, where, text, reply_to=to)
    assert isinstance(community, SlackCommunity)
    where = community.channels[channel]
    waited, fake.config.connect_timeout = fake.config.connect_timeout, 0.01  # nobody will connect
    try:
        return await fake.user_says(person.account, where, text, thread_ts=to.ts if to else None)
    finally:
        fake.config.connect_timeout = waited


async def test_catch_up_recovers_what_was_said_while_down(community: Community) -> None:
    alice, bob = community.people["alice"], community.people["bob"]
    old_thread = await community.says(alice, "before the outage: who can review my PR?")
    await community.says(bob, "intros before", channel="intros")
    await community.says(alice, "the last message stored in general")
    assert await _count(community, EVENTS, kind="message") == 3

    await stop_steward(community)
    during = await _says_while_down(community, alice, "anyone here? the bot is quiet")
    await _says_while_down(community, bob, "seems down", to=during)
    await _says_while_down(community, bob, "posting anyway", channel="intros")
    await _says_while_down(community, alice, "third one")
    # A reply to a message from before the last stored one (on Slack: in an older thread).
    await _says_while_down(community, bob, "I can review it", to=old_thread.raw)
    if community.platform == "discord":
        # A channel where nothing was ever stored: read from the catch-up window.
        await _says_while_down(community, bob, "first words in welcome", channel="welcome")

    # Caught up as soon as Steward is connected again (PlatformReady), not at the 10-min job.
    await start_steward(community, features())
    expected = 9 if community.platform == "discord" else 8
    assert await _count(community, EVENTS, kind="message") == expected
    assert await _count(community, EVENTS, kind="message", user_id=bob.id) == expected - 4
    async with community.app.db.uow() as uow:
        targets = (
            await uow.session.execute(
                select(EVENTS.c.user_id, EVENTS.c.target_user_id)
                .where(EVENTS.c.target_user_id.is_not(None))
                .order_by(EVENTS.c.at)
            )
        ).all()
    assert sorted(tuple(t) for t in targets) == [(bob.id, alice.id), (bob.id, alice.id)]
    # The periodic job and another reconnect go over the same history and store nothing twice.
    await community.advance(minutes=10)
    await community.app.dispatcher.publish(
        PlatformReady(community=_ref(community), at=community.clock.now())
    )
    await community.settle()
    assert await _count(community, EVENTS, kind="message") == expected
    async with community.app.db.uow() as uow:
        rolled = await uow.session.scalar(select(func.sum(MEMBER_DAYS.c.messages)))
    assert rolled == expected


def _ref(community: Community) -> CommunityRef:
    if isinstance(community, DiscordCommunity):
        return CommunityRef("discord", str(community.guild.id))
    assert isinstance(community, SlackCommunity)
    return CommunityRef("slack", community.app.slack.team_id)


async def _reacts_while_down(community: Community, person: Person, raw: Any, name: str) -> None:
    """React straight in the fake while Steward is stopped (nobody hears it)."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        await fake.react(person.account, raw, emoji(community, name))
        return
    waited, fake.config.connect_timeout = fake.config.connect_timeout, 0.01  # nobody will connect
    try:
        await fake.react(person.account, raw, emoji(community, name))
    finally:
        fake.config.connect_timeout = waited


async def _reactions_by(community: Community) -> dict[str, int]:
    """Reactions per member in the raw events, checked against the member-day rollup."""
    e, m = EVENTS.c, MEMBER_DAYS.c
    async with community.app.db.uow() as uow:
        s = uow.session
        raw = dict(
            (
                await s.execute(
                    select(e.user_id, func.count()).where(e.kind == "reaction").group_by(e.user_id)
                )
            ).all()
        )
        rolled = dict(
            (
                await s.execute(
                    select(m.user_id, func.sum(m.reactions))
                    .where(m.reactions > 0)
                    .group_by(m.user_id)
                )
            ).all()
        )
    assert {k: int(v) for k, v in rolled.items()} == {k: int(v) for k, v in raw.items()}
    return {k: int(v) for k, v in raw.items()}


async def test_reactions_added_while_down_are_recovered_with_their_messages(
    community: Community,
) -> None:
    alice, bob = community.people["alice"], community.people["bob"]
    ada, olivia = community.people["ada"], community.people["olivia"]
    stored = await community.says(alice, "the last message stored in general")
    await community.reacts(bob, stored, emoji(community, "thumbsup"))
    assert await _reactions_by(community) == {bob.id: 1}

    await stop_steward(community)
    shipped = await _says_while_down(community, alice, "the new release is out")
    for person, name in ((bob, "tada"), (ada, "tada"), (olivia, "eyes")):
        await _reacts_while_down(community, person, shipped, name)
    # On a message from before the outage.
    await _reacts_while_down(community, ada, stored.raw, "eyes")

    await start_steward(community, features())
    # On connect both platforms re-read the week before the last stored message, so ada's
    # reaction on the older message comes back too.
    expected = {bob.id: 2, ada.id: 2, olivia.id: 1}
    assert await _reactions_by(community) == expected
    # Recovered events count on their message's day, by the platform's clock.
    if isinstance(community, DiscordCommunity):
        posted = snowflake_time(shipped.id).date()
    else:
        posted = datetime.fromtimestamp(float(shipped.ts), UTC).date()
    days = sorted([community.clock.now().date(), posted])
    mine = await community.slash(bob, "engagement me", period=f"{days[0]}..{days[1]}")
    assert mine.ephemeral and field(mine.text, "Reactions") == "2"

    # Another pass over the same history (the periodic job) adds nothing.
    await community.advance(minutes=10)
    assert await _reactions_by(community) == expected
