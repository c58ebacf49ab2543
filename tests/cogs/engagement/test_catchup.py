"""Reconnects: what the platform never delivered is read back from history, stored once.

Each story knows exactly who said what where; after the reconnect the engagement tables and the
report a manager reads must match it. Stop/start of Steward with stored channels is covered in
test_health_report; these are gaps in a running Steward's connection, and Slack channels where
nothing was ever stored.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.builtin import Steward
from bot.core import Feature, PlatformReady, on
from cogs.engagement import Engagement
from cogs.engagement._models import CHANNEL_DAYS, EVENTS, MEMBER_DAYS
from sandbox.discord.ids import snowflake_time
from sandbox.scenario import (
    Community,
    DiscordCommunity,
    Person,
    SlackCommunity,
    open_discord,
    open_slack,
    start_steward,
    stop_steward,
)
from tests.conftest import shared_dir


class Readiness(Feature, name="readiness"):
    """Counts the PlatformReady events Steward publishes, so a story can wait for a reconnect."""

    def __init__(self) -> None:
        self.seen = 0
        self._changed = asyncio.Event()

    @on(PlatformReady, inline=True)
    async def count(self, event: PlatformReady) -> None:
        """Inline, so it runs inside the publish that also runs the catch-up."""
        self.seen += 1
        self._changed.set()

    async def wait_past(self, count: int, within: float = 10.0) -> None:
        """Return once more than ``count`` PlatformReady events were published."""
        async with asyncio.timeout(within):
            while self.seen <= count:
                self._changed.clear()
                await self._changed.wait()


def features(readiness: Readiness) -> list[Feature]:
    """Steward, engagement flushing on the next loop turn, and the readiness probe."""
    return [Steward(), Engagement(flush_after=0), readiness]


@dataclass(frozen=True)
class Said:
    """One message a person posted, as the platform has it."""

    author: Person
    channel_id: str
    message_id: str
    day: date  # by the platform's timestamp
    answers: Person | None = None


def said(community: Community, author: Person, raw: Any, answers: Person | None = None) -> Said:
    """What the story knows about a message, from the fake's own record of it."""
    if isinstance(community, DiscordCommunity):
        return Said(author, raw.channel_id, raw.id, snowflake_time(raw.id).date(), answers)
    at = datetime.fromtimestamp(float(raw.ts), UTC)
    return Said(author, raw.channel, raw.ts, at.date(), answers)


async def says_while_away(
    community: Community,
    author: Person,
    text: str,
    channel: str = "general",
    *,
    to: Said | None = None,
) -> Said:
    """Post straight into the fake, without waiting for Steward (it is not there to hear it).

    ``to``: a reply on Discord, a message in its thread on Slack."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    answers = to.author if to is not None else None
    if isinstance(community, DiscordCommunity):
        where = community.guild.channel_named(channel)
        target = None
        if to is not None:
            target = next(m for m in fake.messages_in(where) if m.id == to.message_id)
        raw = await fake.user_says(author.account, where, text, reply_to=target)
    else:
        assert isinstance(community, SlackCommunity)
        thread = to.message_id if to is not None else None
        raw = await fake.user_says(author.account, community.channels[channel], text, thread)
    return said(community, author, raw, answers)


def field(text: str, name: str) -> str:
    """The value of a ``name: value`` line in what was shown."""
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line[len(name) + 2 :]
    raise AssertionError(f"no {name!r} in:\n{text}")


async def assert_stored_exactly(community: Community, truth: list[Said]) -> None:
    """Raw events, rollups and the report all say what happened: each message once."""
    e, m, c = EVENTS.c, MEMBER_DAYS.c, CHANNEL_DAYS.c
    async with community.app.db.uow() as uow:
        s = uow.session
        rows = (
            await s.execute(
                select(e.user_id, e.channel_id, e.message_id, e.target_user_id).where(
                    e.kind == "message"
                )
            )
        ).all()
        by_member = dict(
            (await s.execute(select(m.user_id, func.sum(m.messages)).group_by(m.user_id))).all()
        )
        by_channel = dict(
            (
                await s.execute(select(c.channel_id, func.sum(c.messages)).group_by(c.channel_id))
            ).all()
        )
    expected = [
        (x.author.id, x.channel_id, x.message_id, x.answers.id if x.answers else None)
        for x in truth
    ]
    assert sorted(tuple(r) for r in rows) == sorted(expected)
    assert {k: int(v) for k, v in by_member.items()} == dict(Counter(x.author.id for x in truth))
    assert {k: int(v) for k, v in by_channel.items()} == dict(Counter(x.channel_id for x in truth))

    # A manager's view over every day a message can count on: live ones at Steward's clock,
    # recovered ones at the platform's timestamp.
    days = [community.clock.now().date(), *(x.day for x in truth)]
    period = f"{min(days).isoformat()}..{max(days).isoformat()}"
    shown = await community.slash(community.people["ada"], "engagement report", period=period)
    assert field(shown.text, "Messages") == str(len(truth))
    active = len({x.author.id for x in truth})
    assert field(shown.text, "Active members").startswith(f"{active} posted or reacted")


# ------------------------------------------------------------------------------------- Discord


async def _identify_at_once(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py waits 5 s before identifying again (Discord's identify rate limit); the fake
    has no such limit, so the wait is skipped."""


@pytest.mark.parametrize("gap", ["replayed", "lost_in_resume", "session_invalidated"])
async def test_discord_gateway_gap_is_caught_up(
    database_url: str, gap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway drops; on RESUME (on_resumed) or re-IDENTIFY (on_guild_available) the
    messages posted meanwhile are stored, whether Discord replayed them or not."""
    shared_dir()
    readiness = Readiness()
    async with open_discord(database_url, features(readiness)) as community:
        fake = community.fake
        bot = community.app.discord.bot
        monkeypatch.setattr(bot, "before_identify_hook", _identify_at_once)
        alice, bob = community.people["alice"], community.people["bob"]
        first = await community.says(alice, "morning all, who is around today?")
        truth = [said(community, alice, first.raw)]
        ready = readiness.seen
        identifies, resumes = fake.gateway.identifies, fake.gateway.resumes

        assert fake.drop_gateway(replay=gap != "lost_in_resume")
        if gap == "session_invalidated":
            fake.invalidate_session(resumable=False)  # the RESUME is refused: IDENTIFY again
        # Posted before discord.py can reconnect (nothing here yields to the loop).
        asked = await says_while_away(community, alice, "is the bot down?")
        truth += [
            asked,
            await says_while_away(community, bob, "looks like it", to=asked),
            await says_while_away(community, bob, "back then: me", to=truth[0]),
            await says_while_away(community, bob, "first words in intros", channel="intros"),
            await says_while_away(community, alice, "still posting"),
        ]

        await readiness.wait_past(ready)  # on_resumed or on_guild_available, then catch-up
        await community.settle()
        if gap == "session_invalidated":
            assert (fake.gateway.identifies, fake.gateway.resumes) == (identifies + 1, resumes)
        else:
            assert (fake.gateway.identifies, fake.gateway.resumes) == (identifies, resumes + 1)
        if gap == "lost_in_resume":
            lost = [f["d"]["id"] for f in fake.gateway.lost if f["t"] == "MESSAGE_CREATE"]
            assert lost == [x.message_id for x in truth[1:]]  # only catch-up could store them
        await assert_stored_exactly(community, truth)
        fake.assert_clean()


async def test_discord_thread_is_read_from_its_own_cursor_after_downtime(
    database_url: str,
) -> None:
    """A thread under #general is a channel of its own for catch-up: its cursor is its last
    stored message, the history read after a restart starts there, and what was said in the
    thread meanwhile is stored once, counting in #general."""
    from cogs.engagement._models import CHANNELS
    from tests.cogs.engagement.test_truth import in_thread

    shared_dir()
    async with open_discord(database_url, [Steward(), Engagement(flush_after=0)]) as community:
        first = community.app
        fake = community.fake
        alice, bob, ada = (community.people[n] for n in ("alice", "bob", "ada"))
        general = str(community.guild.channel_named("general").id)
        asked = await community.says(alice, "how do I rotate a bot token?")
        await in_thread(community, bob, asked, "Settings, then Tokens, then Reset")
        last = await in_thread(community, alice, asked, "and is the old one revoked?")
        thread = fake.world.channels[asked.raw.thread_id]
        await community.says(ada, "the last message stored in general")

        async def cursors() -> dict[str, str]:
            c = CHANNELS.c
            async with community.app.db.uow() as uow:
                rows = await uow.session.execute(select(c.channel_id, c.last_message_id))
            return {str(k): str(v) for k, v in rows}

        assert (await cursors())[str(thread.id)] == str(last.raw.id)

        await stop_steward(community)
        # Down longer than Discord keeps a session: no replay, so history is all there is.
        fake.gateway.resume_window = 0.0
        during = [
            await fake.user_says(bob.account, thread, "yes, at once"),
            await fake.user_says(ada.account, thread, "good to know, I had the same question"),
        ]
        seen = len(fake.requests)
        await start_steward(community, [Steward(), Engagement(flush_after=0)])
        try:
            reads = [
                r.query.get("after")
                for r in fake.requests[seen:]
                if r.method == "GET" and r.path == f"/channels/{thread.id}/messages"
            ]
            # From the thread's cursor first (then the week before it, for reactions).
            assert reads and reads[0] == [str(last.raw.id)]
            e = EVENTS.c
            async with community.app.db.uow() as uow:
                rows = (
                    await uow.session.execute(
                        select(e.message_id, e.channel_id, e.thread_id).where(
                            e.kind == "message", e.thread_id == str(thread.id)
                        )
                    )
                ).all()
                in_general = await uow.session.scalar(
                    select(func.sum(CHANNEL_DAYS.c.messages)).where(
                        CHANNEL_DAYS.c.channel_id == general
                    )
                )
            thread_messages = [str(m.id) for m in fake.messages_in(thread)]
            assert sorted(str(r[0]) for r in rows) == sorted(thread_messages)
            assert len(thread_messages) == 4  # two before the outage, two during it
            assert {r[1] for r in rows} == {general}  # a thread counts in its parent channel
            assert int(in_general or 0) == 2 + len(thread_messages)
            assert (await cursors())[str(thread.id)] == str(during[-1].id)
        finally:
            await community.app.stop()
            community.app = first
        fake.assert_clean()


# --------------------------------------------------------------------------------------- Slack


async def test_slack_socket_mode_gap_is_caught_up(database_url: str) -> None:
    """Socket Mode drops and stays down past Slack's retries; the events are gone. The new
    connection's hello is a PlatformReady, and catch-up finds every message: after the cursor,
    in an older thread, and in a channel where nothing was stored yet."""
    shared_dir()
    readiness = Readiness()
    async with open_slack(database_url, features(readiness)) as community:
        fake = community.fake
        fake.follow_clock(community.clock.now)
        alice, bob, ada = (community.people[n] for n in ("alice", "bob", "ada"))
        root = await community.says(alice, "who can review my PR?")
        await community.advance(hours=2)
        morning = await community.says(bob, "morning", channel="intros")
        truth = [said(community, alice, root.raw), said(community, bob, morning.raw)]
        ready, connects, delivered = readiness.seen, fake.socket.connects, len(fake.deliveries)

        await fake.socket_outage()
        truth += [
            await says_while_away(community, alice, "anyone? the bot is quiet"),
            await says_while_away(community, ada, "I can review it", to=truth[0]),
            await says_while_away(community, bob, "first post in welcome", channel="welcome"),
            await says_while_away(community, alice, "intros too", channel="intros"),
        ]
        lost = fake.deliveries[delivered:]
        assert lost and not any(d.ok for d in lost)  # Slack gave up on every one of them
        assert not fake.socket.connected

        fake.socket_restored()
        await readiness.wait_past(ready)  # the second hello: PlatformReady, then catch-up
        await community.settle()
        assert fake.socket.connects == connects + 1
        await assert_stored_exactly(community, truth)
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_slack_backlog_longer_than_a_page_is_read_from_its_oldest_message(
    database_url: str,
) -> None:
    """Slack pages history from the newest message back: a backlog of several pages must be
    read whole, or the messages just after the cursor are skipped for good."""
    shared_dir()
    readiness = Readiness()
    async with open_slack(database_url, features(readiness)) as community:
        fake = community.fake
        fake.follow_clock(community.clock.now)
        alice, bob = community.people["alice"], community.people["bob"]
        last = await community.says(alice, "the last message stored")
        truth = [said(community, alice, last.raw)]
        ready = readiness.seen

        await fake.socket_outage()
        for i in range(450):  # more than two pages of 200
            truth.append(await says_while_away(community, (alice, bob)[i % 2], f"number {i}"))
        fake.socket_restored()
        await readiness.wait_past(ready)
        await community.settle()
        await assert_stored_exactly(community, truth)
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_slack_channel_with_nothing_stored_is_caught_up_after_a_restart(
    database_url: str,
) -> None:
    """Messages in a channel Steward never stored anything from, posted while it was stopped,
    are read from the catch-up window (seven days), threads included; older ones are not."""
    shared_dir()
    async with open_slack(database_url, features(Readiness())) as community:
        fake = community.fake
        fake.follow_clock(community.clock.now)
        alice, bob, olivia = (community.people[n] for n in ("alice", "bob", "olivia"))
        hello = await community.says(alice, "hello everyone")
        truth = [said(community, alice, hello.raw)]

        await stop_steward(community)
        waited, fake.config.connect_timeout = fake.config.connect_timeout, 0.01
        try:
            await says_while_away(community, bob, "too old to count", channel="welcome")
            community.clock.advance(timedelta(days=8))
            asked = await says_while_away(
                community, bob, "how do I get a badge?", channel="welcome"
            )
            truth += [
                asked,
                await says_while_away(community, alice, "ask in mods", channel="welcome", to=asked),
                await says_while_away(community, olivia, "welcome, bob", channel="welcome"),
            ]
        finally:
            fake.config.connect_timeout = waited

        first, readiness = community.app, Readiness()
        await start_steward(community, features(readiness))
        try:
            await readiness.wait_past(0)
            await community.settle()
            await assert_stored_exactly(community, truth)
            ada = community.people["ada"]
            week = await community.slash(ada, "engagement report", period="7d")
            assert field(week.text, "Messages") == "3"  # hello is 8 days old
            assert field(week.text, "Questions").startswith("1 asked, 1 answered (100%)")
            unanswered = await community.slash(ada, "engagement unanswered")
            assert unanswered.text == "No open questions."

            # The periodic pass reads the window again (#mods, still empty: an empty page).
            await community.advance(minutes=10)
            await assert_stored_exactly(community, truth)
        finally:
            await community.app.stop()
            community.app = first  # stopped already; open_slack stops it again, harmlessly
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)
