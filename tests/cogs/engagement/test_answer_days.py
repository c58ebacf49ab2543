"""The answered-question figures of any period, as the triggers keep them, against the questions.

Questions are stored, answered (by staff, by members, some a second time by an earlier answer,
some within the hour or the day, some after weeks), deleted, and their helpers forget or opt out;
every figure a report reads (asked, answered, within an hour and a day, by staff, the exact
median first response, the top helpers) equals the one counted here from the stored questions,
for periods of every length, and the rows kept per day equal the ones counted afresh.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from bot.db.engine import Database
from cogs.engagement import _admin
from cogs.engagement._metrics import Period, median
from cogs.engagement._models import (
    ANSWER_BUCKETS,
    ANSWER_WAITS,
    HELPER_DAYS,
    OPTOUTS,
    QUESTION_DAYS,
    QUESTIONS,
)
from cogs.engagement._questions import TOP_HELPERS, Answers, answers, bucket_of

COMMUNITY = "discord:1"
FIRST = 20_454  # 2026-01-01
DAYS = 30
START = datetime(2026, 1, 1, tzinfo=UTC)


def _questions(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(1500):
        day = rng.randrange(DAYS)
        asked = START + timedelta(days=day, seconds=rng.randrange(86_400), microseconds=i)
        row: dict[str, Any] = {
            "community_id": COMMUNITY,
            "key": f"m:{i}",
            "channel_id": "200",
            "thread_id": None,
            "message_id": str(i),
            "user_id": f"a{i % 40}",
            "asked_at": asked,
            "day": FIRST + day,
            "answered_at": None,
            "answered_by": None,
            "answered_by_staff": None,
        }
        if rng.random() < 0.7:
            # Waits from a second to weeks, some exactly on the hour, the day, a bucket's edge.
            wait = rng.choice(
                [
                    timedelta(seconds=rng.expovariate(1 / 1800)),
                    timedelta(hours=1),
                    timedelta(days=1),
                    timedelta(seconds=90),
                    timedelta(seconds=90, microseconds=1),
                    timedelta(days=rng.randrange(40), seconds=rng.randrange(86_400)),
                ]
            )
            helper = f"h{min(int(rng.paretovariate(1.1)), 60)}"  # a few answer most
            row |= {
                "answered_at": asked + wait,
                "answered_by": helper,
                "answered_by_staff": helper in ("h1", "h4"),
            }
        rows.append(row)
    return rows


def _truth(rows: list[dict[str, Any]], period: Period, gone: set[str]) -> Answers:
    """The figures counted from the stored questions one by one."""
    inside = [r for r in rows if period.first <= r["day"] <= period.last]
    done = [r for r in inside if r["answered_at"] is not None]
    waits = [(r["answered_at"] - r["asked_at"]).total_seconds() for r in done]
    helpers = Counter(
        r["answered_by"]
        for r in done
        if r["answered_by"] is not None and r["answered_by"] not in gone
    )
    top = sorted(helpers.items(), key=lambda found: (-found[1], found[0]))[:TOP_HELPERS]
    return Answers(
        asked=len(inside),
        answered=len(done),
        median_s=median(waits),
        by_staff=sum(1 for r in done if r["answered_by_staff"]),
        within_hour=sum(1 for w in waits if w <= 3600),
        within_day=sum(1 for w in waits if w <= 86_400),
        helpers=top,
    )


def _kept_afresh(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows each table should hold, counted from the stored questions."""
    days: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    buckets: Counter[tuple[int, int]] = Counter()
    waits: Counter[tuple[int, int, int]] = Counter()
    helpers: Counter[tuple[int, str]] = Counter()
    for r in rows:
        d = days[r["day"]]
        d[0] += 1
        if r["answered_at"] is None:
            continue
        us = (r["answered_at"] - r["asked_at"]) // timedelta(microseconds=1)
        d[1] += 1
        d[2] += bool(r["answered_by_staff"])
        d[3] += us <= 3_600_000_000
        d[4] += us <= 86_400_000_000
        buckets[(r["day"], bucket_of(us))] += 1
        waits[(bucket_of(us), r["day"], us)] += 1
        if r["answered_by"] is not None:
            helpers[(r["day"], r["answered_by"])] += 1
    return {
        "days": {k: tuple(v) for k, v in days.items()},
        "buckets": dict(buckets),
        "waits": dict(waits),
        "helpers": dict(helpers),
    }


async def _kept(s: Any) -> dict[str, Any]:
    d, b, w, h = QUESTION_DAYS.c, ANSWER_BUCKETS.c, ANSWER_WAITS.c, HELPER_DAYS.c
    days = {
        int(day): tuple(int(x) for x in rest)
        for day, *rest in await s.execute(
            select(d.day, d.asked, d.answered, d.by_staff, d.within_hour, d.within_day)
        )
        if any(rest)
    }
    return {
        "days": days,
        "buckets": {
            (int(day), int(k)): int(n)
            for day, k, n in await s.execute(select(b.day, b.bucket, b.answered))
            if n
        },
        "waits": {
            (int(k), int(day), int(us)): int(n)
            for k, day, us, n in await s.execute(select(w.bucket, w.day, w.wait_us, w.answered))
        },
        "helpers": {
            (int(day), str(u)): int(n)
            for day, u, n in await s.execute(select(h.day, h.user_id, h.answers))
        },
    }


async def test_answer_figures_of_any_period_match_the_stored_questions(database_url: str) -> None:
    rng = random.Random(20)
    rows = _questions(rng)
    db = Database(database_url)
    q = QUESTIONS.c
    try:
        async with db.uow() as uow:
            s = uow.session
            await s.execute(insert(QUESTIONS), rows[:1200])  # in bulk, some answered already
            for row in rows[1200:]:  # one by one, answered afterwards as the writer does
                answer = {k: row[k] for k in ("answered_at", "answered_by", "answered_by_staff")}
                await s.execute(
                    insert(QUESTIONS).values(**row | {"answered_at": None, "answered_by": None})
                )
                if answer["answered_at"] is not None:
                    await s.execute(
                        update(QUESTIONS)
                        .where(q.community_id == COMMUNITY, q.key == row["key"])
                        .values(**answer)
                    )
            # An earlier answer replaces the first one seen (by someone else, sooner).
            for row in rng.sample([r for r in rows if r["answered_at"] is not None], 150):
                row["answered_at"] = row["asked_at"] + (row["answered_at"] - row["asked_at"]) / 3
                row["answered_by"], row["answered_by_staff"] = "h2", False
                await s.execute(
                    update(QUESTIONS)
                    .where(q.community_id == COMMUNITY, q.key == row["key"])
                    .values(
                        answered_at=row["answered_at"], answered_by="h2", answered_by_staff=False
                    )
                )
            # Deleted questions, one by one and in bulk.
            deleted = {r["key"] for r in rng.sample(rows, 200)}
            await s.execute(delete(QUESTIONS).where(q.key.in_(sorted(deleted))))
            rows = [r for r in rows if r["key"] not in deleted]
            # A helper forgets (their answers stay answered, by nobody named); another opts out.
            await _admin.forget(s, COMMUNITY, "h3", START + timedelta(days=60))
            await _admin.forget(s, COMMUNITY, "a7", START + timedelta(days=60))
            for row in rows:
                if row["answered_by"] == "h3":
                    row["answered_by"] = None
            rows = [r for r in rows if r["user_id"] != "a7"]
            await s.execute(insert(OPTOUTS).values(community_id=COMMUNITY, user_id="h5", at=START))
            await uow.commit()
        async with db.uow() as uow:
            s = uow.session
            periods = [
                Period(FIRST + lo, FIRST + hi)
                for lo, hi in ((0, 29), (0, 6), (10, 12), (20, 20), (25, 40), (-5, 2), (31, 35))
            ] + [Period(FIRST + d, FIRST + d + n) for d, n in ((3, 0), (7, 1), (11, 13), (2, 26))]
            for period in periods:
                found = await answers(s, COMMUNITY, period)
                assert found == _truth(rows, period, {"h5"}), (period.first - FIRST, period.days)
            assert (await answers(s, COMMUNITY, periods[0])).helpers[0][0] == "h1"
            assert await _kept(s) == _kept_afresh(rows)
    finally:
        await db.dispose()


async def test_top_helpers_are_exact_when_few_are_added_up(database_url: str) -> None:
    """Hundreds of answers a day: only the members with several answers on one day are added
    up at first. A member with three answers every day still ranks above one with forty on a
    single day when the period holds all their days, and below when it does not."""
    rows = []
    for day in range(14):
        for i in range(400):
            at = START + timedelta(days=day, seconds=i * 60)
            if i < 200:
                by = f"busy{i % 4}"
            elif i < 203:
                by = "steady"
            elif day == 5 and i < 243:
                by = "burst"
            else:
                by = f"x{day}-{i}"
            rows.append(
                {
                    "community_id": COMMUNITY,
                    "key": f"k:{day}:{i}",
                    "channel_id": "200",
                    "thread_id": None,
                    "message_id": f"{day}-{i}",
                    "user_id": "asker",
                    "asked_at": at,
                    "day": FIRST + day,
                    "answered_at": at + timedelta(seconds=30 + i),
                    "answered_by": by,
                    "answered_by_staff": False,
                }
            )
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            await uow.session.execute(insert(QUESTIONS), rows)
            await uow.commit()
        async with db.uow() as uow:
            whole = await answers(uow.session, COMMUNITY, Period(FIRST, FIRST + 13))
            assert whole == _truth(rows, Period(FIRST, FIRST + 13), set())
            assert whole.helpers[4] == ("steady", 42)
            part = await answers(uow.session, COMMUNITY, Period(FIRST + 1, FIRST + 11))
            assert part == _truth(rows, Period(FIRST + 1, FIRST + 11), set())
            assert part.helpers[4] == ("burst", 40)
    finally:
        await db.dispose()
