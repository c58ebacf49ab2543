"""The report's SQL against the same figures counted in Python, on SQLite and PostgreSQL.

The members' activity is random but seeded; the windows cover both ways the distinct actives
are counted (off each member's last active day when nobody was active after the window, over
the member days otherwise) and the weekly cohorts start on every weekday.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert

from bot.db.engine import Database
from cogs.engagement import _repo
from cogs.engagement._gaps import gaps_of
from cogs.engagement._metrics import Period, retention
from cogs.engagement._models import (
    BLOCK_DAYS,
    CHANNEL_DAYS,
    DAYS,
    MEMBER_BLOCKS,
    MEMBER_DAYS,
    MEMBER_GAPS,
    MEMBERS,
)
from cogs.engagement._rules import COUNTS, block_rows, weeks_bits

COMMUNITY = "discord:1"
FIRST = 20_454  # 2026-01-01, a Thursday
LAST = FIRST + 69
Activity = dict[str, dict[int, set[str]]]
"""Per member: the days they were active, and in which channels."""


def _activity() -> Activity:
    rng = random.Random(7)
    found: Activity = {}
    for i in range(80):
        start = FIRST + rng.randrange(70)
        days = {d for d in range(start, LAST + 1) if rng.random() < rng.choice((0.05, 0.3))}
        if i % 10 == 0:  # active early and late, never in between: spans any window in the gap
            days = {start % 7 + FIRST, LAST - 1 - i % 3}
        found[f"u{i}"] = {d: set(rng.sample(["a", "b", "c"], rng.randint(1, 2))) for d in days}
    found["u80"] = {}  # joined, never said anything
    return found


def _zero() -> dict[str, float]:
    return dict.fromkeys(COUNTS, 0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[tuple[Database, Activity]]:
    """A community whose member days, channel days, members and days all agree."""
    activity = _activity()
    database = Database(database_url)
    member_days, channel_days, members = [], [], []
    active: dict[int, int] = defaultdict(int)
    for user, days in activity.items():
        for day, channels in days.items():
            active[day] += 1
            counts = {**_zero(), "messages": len(channels)}
            member_days.append({"community_id": COMMUNITY, "day": day, "user_id": user, **counts})
            channel_days.extend(
                {
                    "community_id": COMMUNITY,
                    "channel_id": c,
                    "day": day,
                    "user_id": user,
                    **_zero(),
                    "messages": 1,
                }
                for c in channels
            )
        members.append(
            {
                "community_id": COMMUNITY,
                "user_id": user,
                "joined_day": min(days, default=LAST - 3),
                "first_day": min(days, default=None),
                "last_day": max(days, default=None),
                "last_posted_day": max(days, default=None),
                "weeks": weeks_bits(days, min(days, default=LAST - 3)),
            }
        )
    deltas = {(COMMUNITY, r["day"], r["user_id"]): r for r in member_days}
    blocks = [
        dict(zip(("community_id", "block", "user_id", "active", "posted"), row, strict=True))
        for row in block_rows(deltas, BLOCK_DAYS)
    ]
    gaps: dict[tuple[int, int], int] = defaultdict(int)
    for days in activity.values():
        for day, since in gaps_of(days):
            gaps[(day, since)] += 1  # every active day here is a posting day
    async with database.uow() as uow:
        s = uow.session
        await s.execute(
            insert(MEMBER_GAPS),
            [
                {"community_id": COMMUNITY, "day": d, "since": g, "active": n, "posted": n}
                for (d, g), n in gaps.items()
            ],
        )
        await s.execute(insert(MEMBER_BLOCKS), blocks)
        await s.execute(insert(MEMBER_DAYS), member_days)
        await s.execute(insert(CHANNEL_DAYS), channel_days)
        await s.execute(insert(MEMBERS), members)
        await s.execute(
            insert(DAYS),
            [
                {"community_id": COMMUNITY, "day": d, "active": n, **_zero()}
                for d, n in active.items()
            ],
        )
        await uow.commit()
    try:
        yield database, activity
    finally:
        await database.dispose()


def _truth(activity: Activity, first: int, last: int, channel: str | None = None) -> int:
    return sum(
        1
        for days in activity.values()
        if any(first <= d <= last and (channel is None or channel in c) for d, c in days.items())
    )


@pytest.mark.parametrize("last", [LAST, LAST + 3, LAST - 5, LAST - 30, FIRST + 10])
@pytest.mark.parametrize("channel", [None, "a"])
async def test_distinct_actives_match_the_member_days(
    db: tuple[Database, Activity], last: int, channel: str | None
) -> None:
    database, activity = db
    firsts = (last - 29, last - 6, last - 59, last, last - 29)
    async with database.uow() as uow:
        found = await _repo.active_since(uow.session, COMMUNITY, firsts, last, channel)
        single = [
            await _repo.distinct_active(uow.session, COMMUNITY, f, last, channel) for f in firsts
        ]
    want = [_truth(activity, f, last, channel) for f in firsts]
    assert found == want
    assert single == want


@pytest.mark.parametrize("period", [Period(LAST - 29, LAST), Period(LAST - 13, LAST - 7)])
async def test_report_actives_match_the_member_days(
    db: tuple[Database, Activity], period: Period
) -> None:
    database, activity = db
    async with database.uow() as uow:
        f = await _repo.figures(uow.session, COMMUNITY, period)
    assert f.mau == _truth(activity, period.last - 29, period.last)
    assert f.wau == _truth(activity, period.last - 6, period.last)
    assert f.active == _truth(activity, period.first, period.last)
    assert f.communicators == f.active  # everyone active here posted


@pytest.mark.parametrize("today", [LAST, LAST - 20, FIRST + 40])
async def test_retention_matrix_matches_the_python_cohorts(
    db: tuple[Database, Activity], today: int
) -> None:
    database, activity = db
    async with database.uow() as uow:
        found = await _repo.retention_matrix(uow.session, COMMUNITY, today)
    members = [(min(days, default=LAST - 3), set(days)) for days in activity.values()]
    assert found == retention(members, today)
    assert any(c.retained[0] for c in found)  # not all empty: the comparison means something
