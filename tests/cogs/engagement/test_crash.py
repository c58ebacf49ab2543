"""A flush that dies half-way through its rollups leaves them correct: redone, never twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import case, distinct, func, select

from bot.builtin import Steward
from bot.core import (
    ChannelRef,
    CommunityRef,
    Event,
    Member,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    UserRef,
)
from cogs.engagement import Engagement
from cogs.engagement._models import (
    CHANNEL_DAYS,
    DAYS,
    EVENTS,
    MEMBER_DAYS,
    MEMBERS,
    QUESTIONS,
)
from tests.core.harness import Harness

ROOT = Path(__file__).resolve().parents[3]


def week(community: CommunityRef, start: Any) -> list[Event]:
    """Three days of messages, replies and reactions in two channels."""
    channels = [ChannelRef(community, "300"), ChannelRef(community, "301")]
    people = [Member(UserRef(community, f"u{i}"), f"p{i}") for i in range(4)]
    events: list[Event] = []
    for i in range(60):
        at = start + timedelta(hours=i * 1.3)
        where = channels[i % 2]
        events.append(
            MessagePosted(
                community=community,
                at=at,
                message=MessageRef(where, str(5000 + i)),
                author=people[i % 4],
                text="anyone know why the build fails?" if i % 5 == 0 else "ok",
                reply_to=MessageRef(where, str(5000 + i - 2)) if i % 3 == 0 and i > 1 else None,
            )
        )
        if i % 2:
            events.append(
                ReactionAdded(
                    community=community,
                    at=at,
                    message=MessageRef(where, str(5000 + i)),
                    user=people[(i + 1) % 4].ref,
                    emoji="👍",
                )
            )
    return events


async def rollups_and_truth(h: Harness) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """The rollups, and the same figures counted from the raw events."""
    e = EVENTS.c
    message = case((e.kind == "message", 1), else_=0)
    reaction = case((e.kind == "reaction", 1), else_=0)
    question = case(((e.kind == "message") & e.is_question, 1), else_=0)
    reply = case(
        (
            (e.kind == "message") & e.target_user_id.is_not(None) & (e.target_user_id != e.user_id),
            1,
        ),
        else_=0,
    )
    counted = [func.sum(message), func.sum(reaction), func.sum(question), func.sum(reply)]
    m, c = MEMBER_DAYS.c, CHANNEL_DAYS.c
    async with h.app.db.uow() as uow:
        s = uow.session
        truth_members = (
            await s.execute(
                select(e.day, e.user_id, *counted)
                .where(e.kind.in_(["message", "reaction"]))
                .group_by(e.day, e.user_id)
                .order_by(e.day, e.user_id)
            )
        ).all()
        members = (
            await s.execute(
                select(m.day, m.user_id, m.messages, m.reactions, m.questions, m.replies).order_by(
                    m.day, m.user_id
                )
            )
        ).all()
        truth_channels = (
            await s.execute(
                select(e.channel_id, e.day, e.user_id, *counted)
                .where(e.kind.in_(["message", "reaction"]))
                .group_by(e.channel_id, e.day, e.user_id)
                .order_by(e.channel_id, e.day, e.user_id)
            )
        ).all()
        channels = (
            await s.execute(
                select(
                    c.channel_id, c.day, c.user_id, c.messages, c.reactions, c.questions, c.replies
                ).order_by(c.channel_id, c.day, c.user_id)
            )
        ).all()
        d = DAYS.c
        days = (
            await s.execute(select(d.day, d.active, d.messages, d.reactions).order_by(d.day))
        ).all()
        truth_days = (
            await s.execute(
                select(e.day, func.count(distinct(e.user_id)), counted[0], counted[1])
                .where(e.kind.in_(["message", "reaction"]))
                .group_by(e.day)
                .order_by(e.day)
            )
        ).all()
        p = MEMBERS.c
        spans = (
            await s.execute(select(p.user_id, p.first_day, p.last_day).order_by(p.user_id))
        ).all()
        truth_spans = (
            await s.execute(
                select(e.user_id, func.min(e.day), func.max(e.day))
                .where(e.kind.in_(["message", "reaction"]))
                .group_by(e.user_id)
                .order_by(e.user_id)
            )
        ).all()
    assert [tuple(r) for r in days] == [tuple(r) for r in truth_days]
    # Each member's first and last active day (what MAU and retention read).
    assert [tuple(r) for r in spans] == [tuple(r) for r in truth_spans]
    return (
        [tuple(r) for r in members],
        [tuple(r) for r in truth_members],
        [tuple(r) for r in channels],
        [tuple(r) for r in truth_channels],
    )


async def _counts(h: Harness) -> tuple[int, int, int]:
    async with h.app.db.uow() as uow:
        s = uow.session
        raw = await s.scalar(select(func.count()).select_from(EVENTS))
        rolled = await s.scalar(select(func.coalesce(func.sum(MEMBER_DAYS.c.messages), 0)))
        asked = await s.scalar(select(func.count()).select_from(QUESTIONS))
    return int(raw or 0), int(rolled or 0), int(asked or 0)


async def test_a_flush_that_dies_mid_rollup_is_retried_whole(
    database_url: str,
) -> None:
    engagement = Engagement(flush_after=0, max_batch=25)
    async with Harness(database_url, [Steward(), engagement]) as h:
        events = week(h.community, h.clock.now())
        # The database goes away mid-batch: after the raw rows (on SQLite, and the member
        # rollup), before the channel rollup.
        await engagement.ingest.inject_fault("channel_days", times=1)
        for event in events:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        assert engagement.ingest.failures == 1
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        assert (await _counts(h))[:2] == (90, 60)


async def test_a_flush_failing_twice_is_stored_once_the_trouble_passes_and_replays_count_once(
    database_url: str,
) -> None:
    engagement = Engagement(flush_after=0, max_batch=1000)
    async with Harness(database_url, [Steward(), engagement]) as h:
        events = week(h.community, h.clock.now())
        half = len(events) // 2
        for event in events[:half]:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        before = await _counts(h)
        assert before[0] == half

        # The second half dies mid-rollup on the first try and the second (the database went
        # away): nothing of it is half-stored, and it is tried until the database takes it.
        await engagement.ingest.inject_fault("channel_days", times=2)
        for event in events[half:]:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        assert engagement.ingest.failures == 2
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        assert await _counts(h) == (90, 60, 12)

        # Catch-up (or a gateway replay) brings everything again: nothing counts twice.
        for event in events:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        raw, rolled, asked = await _counts(h)
        assert (raw, rolled, asked) == (90, 60, 12)


async def test_while_the_database_refuses_batches_the_intake_slows_down_and_nothing_is_dropped(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The writer keeps trying a batch the database refuses; what waits behind it is bounded:
    past ``max_pending`` the platform's next event waits for room, and once the database
    takes the batches again every event is stored, once."""
    engagement = Engagement(flush_after=0, max_batch=10, max_pending=20)
    async with Harness(database_url, [Steward(), engagement]) as h:
        ingest = engagement.ingest
        await ingest.wait_ready()
        events = week(h.community, h.clock.now())  # 90 events
        # The database refuses the next batches several times over (about 3 s of backoff).
        await ingest.inject_fault("channel_days", times=6)

        async def platform() -> None:
            for event in events:
                await h.app.dispatcher.publish(event)

        publishing = asyncio.create_task(platform())
        await asyncio.wait_for(ingest.held.wait(), 30)  # the intake waits for room ...
        assert not publishing.done()
        assert ingest.pending <= 20 + 1  # ... with what waits bounded (the one just offered)
        await asyncio.wait_for(publishing, 60)
        await ingest.flush()
        assert not ingest.held.is_set()
        assert await _counts(h) == (90, 60, 12)  # nothing dropped, nothing doubled
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        said = [r.getMessage() for r in caplog.records if r.name == "steward.engagement"]
        assert sum("taken in more slowly" in line for line in said) == 1  # once, not per batch
        assert sum("back to full speed" in line for line in said) == 1


async def test_a_writer_killed_mid_batch_is_restarted_and_nothing_is_lost_or_doubled(
    database_url: str,
) -> None:
    engagement = Engagement(flush_after=60, max_batch=10)
    async with Harness(database_url, [Steward(), engagement]) as h:
        ingest = engagement.ingest
        events = week(h.community, h.clock.now())
        for event in events[:40]:
            await h.app.dispatcher.publish(event)
        await ingest.flush()
        first = ingest.writer_pid
        assert first is not None
        for event in events[40:]:
            await h.app.dispatcher.publish(event)
        # Five batches go out; the writer dies (as by the OOM killer) before it has acknowledged
        # them. It is stopped before they leave: a writer left running on a fast or idle core
        # could store and acknowledge all five before the kill, and then nothing is tested.
        # (A flush dying mid-rollup, committed or not, is the tests above.)
        os.kill(first, signal.SIGSTOP)
        await ingest._send_buffered()
        assert ingest.pending > 0
        os.kill(first, signal.SIGKILL)
        await ingest.flush()
        assert ingest.restarts == 1 and ingest.writer_pid not in (None, first)
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        assert await _counts(h) == (90, 60, 12)


async def test_members_first_and_last_active_days_follow_them_across_batches(
    database_url: str,
) -> None:
    engagement = Engagement(flush_after=0, max_batch=7)
    async with Harness(database_url, [Steward(), engagement]) as h:
        events = week(h.community, h.clock.now())
        for i, event in enumerate(events):
            if i % 30 == 29:  # three days or so, most members active on each
                await engagement.ingest.flush()
                h.clock.advance(timedelta(days=1))
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        # The first day again (a replay) changes nothing.
        for event in events[:20]:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        members, truth_members, channels, truth_channels = await rollups_and_truth(h)
        assert members == truth_members and channels == truth_channels
        async with h.app.db.uow() as uow:
            days = {
                tuple(r)
                for r in await uow.session.execute(select(MEMBERS.c.first_day, MEMBERS.c.last_day))
            }
        assert days and all(last > first for first, last in days)


def test_the_writer_process_loads_what_storing_needs_and_no_feature() -> None:
    """The writer runs beside Steward for as long as Steward runs, so it carries only
    engagement's storing code: not the engagement feature (its commands, charts and reports, and
    the other features whose events it counts), not a platform's library. Importing the feature
    with the package had made the writer about 30 MB larger and its start twice as costly."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot.writer, cogs.engagement._store; print(*sorted(sys.modules))",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.split()
    assert "cogs.engagement._store" in loaded  # what the writer is for
    outside = [
        m
        for m in loaded
        if m.split(".")[0] in ("discord", "slack_bolt", "slack_sdk", "apscheduler")
        or (m.startswith("cogs.") and m.split(".")[1] != "engagement")
        or m in ("cogs.engagement.feature", "cogs.engagement._charts")
    ]
    assert outside == []
