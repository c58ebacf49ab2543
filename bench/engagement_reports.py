"""Engagement reports: the health report read from the rollups against the same questions asked
as plain SQL over the raw events table, on SQLite and PostgreSQL.

``python -m bench.engagement_reports [--n 10000000] [--quick] [--only retention] [--db sqlite]``;
``run(n)`` for bench/run.py.

The data: one community, 50,000 members with Zipf-like activity (a member's id is drawn
log-uniformly, so a few post a lot and most rarely), 90 days, 85% messages and 15% reactions,
30 channels, every ninth message a question. The raw rows are generated inside the database
(a recursive CTE on SQLite, ``generate_series`` on PostgreSQL) and the rollups are built from
them with ``INSERT … SELECT … GROUP BY`` (the same rows the live writer would have added up);
members join on their first active day. Generated databases are kept (SQLite under
``/tmp/steward-bench/``, PostgreSQL as ``steward_bench_reports_v<version>_<n>``) and reused
by later runs.

Rows: p50/p99 are the query's wall time over repeated runs (the raw variants run fewer times);
``ratio p50`` is raw time over rollup time (goal ≥ 50). Goals: DAU for 30 days ≤ 40 ms on SQLite
and ≤ 15 ms on PostgreSQL, the retention matrix ≤ 100 ms. Each rollup answer is checked against
the raw answer before it is timed. "The 30 days before" is a window that does not end on the
last day: the rollups cannot read it off each member's last active day and scan the member days.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import Row  # noqa: E402
from bench.engagement_ingest import PG_URL  # noqa: E402
from cogs.engagement._gaps import BACKFILL  # noqa: E402

COMMUNITY = "discord:1"
USERS, DAYS, CHANNELS = 50_000, 90, 30
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
CACHE = Path(os.environ.get("STEWARD_BENCH_CACHE", "/tmp/steward-bench"))
VERSION = 8
"""Bumped when the schema or the generator changes, so old cached databases are not reused."""


def _first_day() -> int:
    from cogs.engagement._metrics import day_of

    return day_of(FIRST)


def _answers_back(n: int) -> int:
    """How many questions back a reply may go (log-uniform): up to about three days."""
    return max(2, n // 250)


def _sqlite_raw(n: int) -> str:
    span = DAYS * 86_400
    return f"""
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1})
INSERT INTO engagement_events (community_id, key, kind, at, day, user_id, channel_id,
    target_key, length, attachments, is_question, sentiment, from_staff)
SELECT '{COMMUNITY}', printf('g:%010d', i),
    CASE WHEN i % 20 < 17 THEN 'message' ELSE 'reaction' END,
    datetime({int(FIRST.timestamp())} + i * {span} / {n}, 'unixepoch') || '.000000',
    {_first_day()} + (i * {span} / {n}) / 86400,
    CAST(CAST(exp((abs(random()) % 1000000) / 1000000.0 * ln({USERS})) AS INTEGER) AS TEXT),
    CAST(500 + i % {CHANNELS} AS TEXT),
    CASE WHEN {_REPLY} THEN printf('g:%010d', i - 4 - 9 * CAST(exp((abs(random()) % 1000000)
        / 1000000.0 * ln({_answers_back(n)})) AS INTEGER)) END,
    20, 0, CASE WHEN i % 20 < 17 AND i % 9 = 0 THEN 1 ELSE 0 END, 0.1, 0
FROM s
"""


def _pg_raw(n: int) -> str:
    span = DAYS * 86_400
    return f"""
INSERT INTO engagement_events (community_id, key, kind, at, day, user_id, channel_id,
    target_key, length, attachments, is_question, sentiment, from_staff)
SELECT '{COMMUNITY}', 'g:' || lpad(i::text, 10, '0'),
    CASE WHEN i % 20 < 17 THEN 'message' ELSE 'reaction' END,
    to_timestamp({int(FIRST.timestamp())} + (i * {span}) / {n}),
    {_first_day()} + ((i * {span}) / {n}) / 86400,
    floor(exp(random() * ln({USERS})))::int::text,
    (500 + i % {CHANNELS})::text,
    CASE WHEN {_REPLY} THEN 'g:' || lpad((i - 4 - 9 * floor(exp(random()
        * ln({_answers_back(n)})))::bigint)::text, 10, '0') END,
    20, 0, i % 20 < 17 AND i % 9 = 0, 0.1, false
FROM generate_series(0::bigint, {n - 1}::bigint) AS i
"""


_REPLY = "i % 20 < 17 AND i % 9 = 4 AND i >= 13"
"""Every ninth message (four after a question) replies to a question 1 to ``_answers_back``
questions back (a reaction at times: then it answers nothing). Keys are zero-padded, so they
sort in the order they are generated and the key index is filled from one end (at 10 million
rows, random inserts into it cost more than the rest of the build)."""
STAFF = ("1", "3")
"""Members who are staff (two of the busiest)."""
OPTED_OUT = "2"
"""A busy helper who opted out: never among the top helpers."""
AFTER_RAW = (
    f"UPDATE engagement_events SET from_staff = true WHERE user_id IN {STAFF}",
    f"INSERT INTO engagement_optouts (community_id, user_id, at) VALUES ('{COMMUNITY}', "
    f"'{OPTED_OUT}', '2026-01-01 00:00:00')",
)
QUESTIONS_SQL = f"""
INSERT INTO engagement_questions (community_id, key, channel_id, thread_id, message_id,
    user_id, asked_at, day, answered_at, answered_by, answered_by_staff)
SELECT q.community_id, q.key, q.channel_id, NULL, q.key, q.user_id, q.at, q.day,
    a.at, a.user_id, a.from_staff
FROM engagement_events AS q LEFT JOIN (
    SELECT r.target_key, r.at, r.user_id, r.from_staff, row_number() OVER (
        PARTITION BY r.target_key ORDER BY r.at, r.key) AS rn
    FROM engagement_events AS r JOIN engagement_events AS t
        ON t.community_id = r.community_id AND t.key = r.target_key
    WHERE r.community_id = '{COMMUNITY}' AND r.target_key IS NOT NULL AND r.kind = 'message'
        AND t.kind = 'message' AND t.is_question AND r.user_id <> t.user_id AND r.at >= t.at
) AS a ON a.target_key = q.key AND a.rn = 1
WHERE q.community_id = '{COMMUNITY}' AND q.kind = 'message' AND q.is_question
"""
"""The questions with their first answer by someone else, as the writer keeps them (the
triggers count them per day)."""


_COUNTS = """
    sum(CASE WHEN kind = 'message' THEN 1 ELSE 0 END),
    sum(CASE WHEN kind = 'reaction' THEN 1 ELSE 0 END),
    0,
    sum(CASE WHEN kind = 'message' AND is_question THEN 1 ELSE 0 END),
    0, 0,
    sum(CASE WHEN kind = 'message' THEN coalesce(sentiment, 0) ELSE 0 END),
    sum(CASE WHEN kind = 'message' THEN 1 ELSE 0 END)
"""
_OFFSET = "(d.day + 3) / 7 - (m.joined_day + 3) / 7"
"""Weeks from the join week (``engagement_members.weeks``: the bits the writer keeps)."""
ROLLUPS = [
    f"""INSERT INTO engagement_member_days (community_id, day, user_id, messages, reactions,
    replies, questions, p2p_replies, staff_replies, sentiment_sum, sentiment_n)
    SELECT community_id, day, user_id, {_COUNTS} FROM engagement_events
    WHERE kind IN ('message', 'reaction') GROUP BY community_id, day, user_id""",
    f"""INSERT INTO engagement_channel_days (community_id, channel_id, day, user_id, messages,
    reactions, replies, questions, p2p_replies, staff_replies, sentiment_sum, sentiment_n)
    SELECT community_id, channel_id, day, user_id, {_COUNTS} FROM engagement_events
    WHERE kind IN ('message', 'reaction') GROUP BY community_id, channel_id, day, user_id""",
    """INSERT INTO engagement_members (community_id, user_id, joined_day, first_day, last_day,
    posted_day, last_posted_day) SELECT community_id, user_id, min(day), min(day), max(day),
    min(CASE WHEN messages > 0 THEN day END), max(CASE WHEN messages > 0 THEN day END)
    FROM engagement_member_days GROUP BY community_id, user_id""",
    # The active weeks from the join week (the bits the writer keeps), in one grouped pass.
    f"""CREATE TEMPORARY TABLE bench_weeks AS SELECT m.community_id, m.user_id,
    sum(DISTINCT CASE WHEN {_OFFSET} BETWEEN 0 AND 62 THEN CAST(1 AS BIGINT) << ({_OFFSET})
    ELSE 0 END) AS weeks FROM engagement_member_days AS d CROSS JOIN engagement_members AS m
    WHERE m.community_id = d.community_id AND m.user_id = d.user_id
    GROUP BY m.community_id, m.user_id""",
    "CREATE INDEX bench_weeks_key ON bench_weeks (community_id, user_id)",
    """UPDATE engagement_members SET weeks = (SELECT w.weeks FROM bench_weeks AS w
    WHERE w.community_id = engagement_members.community_id
    AND w.user_id = engagement_members.user_id)""",
    "DROP TABLE bench_weeks",
    """INSERT INTO engagement_member_blocks (community_id, block, user_id, active, posted)
    SELECT community_id, day / 60, user_id, sum(CAST(1 AS BIGINT) << (day % 60)),
    sum(CASE WHEN messages > 0 THEN CAST(1 AS BIGINT) << (day % 60) ELSE 0 END)
    FROM engagement_member_days GROUP BY community_id, day / 60, user_id""",
    BACKFILL,  # the gaps: each member day with the member's previous one
    # (the question and answer days follow the questions by their triggers)
    QUESTIONS_SQL,
    """INSERT INTO engagement_days (community_id, day, active, messages, reactions, replies,
    questions, p2p_replies, staff_replies, sentiment_sum, sentiment_n)
    SELECT community_id, day, count(*), sum(messages), sum(reactions), sum(replies),
    sum(questions), sum(p2p_replies), sum(staff_replies), sum(sentiment_sum), sum(sentiment_n)
    FROM engagement_member_days GROUP BY community_id, day""",
]
MARK = "CREATE TABLE IF NOT EXISTS bench_generated (n BIGINT NOT NULL)"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _step(run: Callable[[str], object], statements: list[str]) -> None:
    for sql in statements:
        started = time.perf_counter()
        run(sql)
        _say(f"  {time.perf_counter() - started:6.1f} s  {' '.join(sql.split())[:70]}")


async def _astep(run: Callable[[str], Awaitable[object]], statements: list[str]) -> None:
    for sql in statements:
        started = time.perf_counter()
        await run(sql)
        _say(f"  {time.perf_counter() - started:6.1f} s  {' '.join(sql.split())[:70]}")


async def sqlite_database(n: int) -> str:
    """The generated SQLite file for ``n`` events (built once, then reused)."""
    from bot.db import schema

    CACHE.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before any timing)
    path = CACHE / f"engagement_reports-v{VERSION}-{n}.db"
    url = f"sqlite+aiosqlite:///{path}"
    if path.exists():
        conn = sqlite3.connect(path)
        try:
            done = conn.execute("SELECT n FROM bench_generated").fetchone()
        except sqlite3.OperationalError:
            done = None
        conn.close()
        if done == (n,):
            return url
        path.unlink()
    await schema.upgrade(url)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    started = time.perf_counter()
    _say(f"generating {n:,} raw events in SQLite ({path}) …")
    conn.execute("BEGIN")
    _step(lambda sql: conn.execute(sql), [_sqlite_raw(n), *AFTER_RAW, "ANALYZE", *ROLLUPS])
    conn.execute(MARK)
    conn.execute("INSERT INTO bench_generated (n) VALUES (?)", (n,))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    _say(f"… done in {time.perf_counter() - started:.0f} s")
    return url


async def pg_database(n: int) -> str | None:
    """The generated PostgreSQL database for ``n`` events, or None without PostgreSQL."""
    import asyncpg  # type: ignore[import-untyped]

    from bot.db import schema

    name = f"steward_bench_reports_v{VERSION}_{n}"
    base = PG_URL.rpartition("/")[0]
    try:
        admin = await asyncpg.connect(PG_URL)
    except Exception:
        return None
    url = f"{base}/{name}"
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            conn = await asyncpg.connect(url)
            try:
                done = await conn.fetchval("SELECT n FROM bench_generated")
            except asyncpg.UndefinedTableError:
                done = None
            await conn.close()
            if done == n:
                return url
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await schema.upgrade(url)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    _say(f"generating {n:,} raw events in PostgreSQL ({name}) …")
    async with conn.transaction():
        await _astep(conn.execute, [_pg_raw(n), *AFTER_RAW, "ANALYZE", *ROLLUPS])
        await conn.execute(MARK)
        await conn.execute("INSERT INTO bench_generated (n) VALUES ($1)", n)
    await conn.execute("VACUUM ANALYZE")
    await conn.close()
    _say(f"… done in {time.perf_counter() - started:.0f} s")
    return url


async def _timed(
    session: Any, query: Callable[[Any], Awaitable[Any]], times: int
) -> tuple[list[float], Any]:
    result = await query(session)  # warm the cache and compile once
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        result = await query(session)
        spent.append(time.perf_counter() - start)
    return spent, result


def _p99(values: list[float]) -> float:
    return max(values) if len(values) < 100 else statistics.quantiles(values, n=100)[98]


async def raw_retention(s: Any, community: str, last: int) -> list[Any]:
    """The weekly cohorts from the raw events: members join on their first active day."""
    from sqlalchemy import distinct, func, select

    from cogs.engagement._metrics import RETENTION_WEEKS, cohort_weeks
    from cogs.engagement._models import EVENTS
    from cogs.engagement._repo import cohorts_of

    e = EVENTS.c
    active = e.kind.in_(["message", "reaction"])
    first_week, _ = cohort_weeks(last)
    spans = (
        select(e.user_id, func.min(e.day).label("j"))
        .where(e.community_id == community, active)
        .group_by(e.user_id)
        .subquery()
    )
    week = (spans.c.j + 3) // 7  # integer division, as week_of
    cohort = [spans.c.j <= last, week >= first_week]
    sizes = {
        int(w): int(n)
        for w, n in await s.execute(select(week, func.count()).where(*cohort).group_by(week))
    }
    offset = (e.day + 3) // 7 - week
    rows = await s.execute(
        select(week, offset, func.count(distinct(e.user_id)))
        .select_from(spans.join(EVENTS, e.user_id == spans.c.user_id))
        .where(*cohort, e.community_id == community, active, e.day <= last)
        .where(offset.in_(RETENTION_WEEKS))
        .group_by(week, offset)
    )
    kept = {(int(w), int(n)): int(c) for w, n, c in rows}
    return cohorts_of(sizes, kept, last)


async def measure_one(engine: str, url: str, n: int, raw_times: int, only: str = "") -> list[Row]:
    """Each question from the rollups and from the raw events, on one database."""
    from bench._report_questions import questions
    from bot.db.engine import Database

    today = _first_day() + DAYS - 1
    db = Database(url)
    rows: list[Row] = []
    try:
        for label, rollup, raw, goal in questions(
            COMMUNITY, today, 40.0 if engine == "sqlite" else 15.0
        ):
            if only not in label:
                continue
            async with db.uow() as uow:
                raw_spent, raw_answer = await _timed(uow.session, raw, raw_times)
                spent, answer = await _timed(uow.session, rollup, 20)
            same = answer == raw_answer
            p50 = statistics.median(spent) * 1e3
            raw_p50 = statistics.median(raw_spent) * 1e3
            met = "met" if goal is not None and p50 <= goal else "MISSED"
            verdict = "" if goal is None else f", goal ≤{goal:g} ms {met}"
            fast = "≥50x" if raw_p50 / p50 >= 50 else "UNDER 50x"
            rows.append(
                Row(
                    "engagement_reports",
                    f"{engine}: {label} from rollups "
                    f"({'= raw' if same else 'DIFFERS'}, {fast}{verdict})",
                    n,
                    p50,
                    _p99(spent) * 1e3,
                    raw_p50 / p50,
                    0.0,
                )
            )
            rows.append(
                Row(
                    "engagement_reports",
                    f"{engine}: {label}, plain SQL over raw events",
                    n,
                    raw_p50,
                    _p99(raw_spent) * 1e3,
                    1.0,
                    0.0,
                )
            )
    finally:
        await db.dispose()
    return rows


async def measure(
    n: int, raw_times: int = 3, only: str = "", engines: tuple[str, ...] = ("sqlite", "postgres")
) -> list[Row]:
    """Every question (or those whose label holds ``only``) on each database in ``engines``."""
    rows: list[Row] = []
    if "sqlite" in engines:
        rows += await measure_one("sqlite", await sqlite_database(n), n, raw_times, only)
    pg = await pg_database(n) if "postgres" in engines else None
    if pg is not None:
        rows += await measure_one("postgres", pg, n, raw_times, only)
    return rows


def run(
    n: int = 10_000_000, only: str = "", engines: tuple[str, ...] = ("sqlite", "postgres")
) -> list[Row]:
    """For bench/run.py: ``n`` events (at least 100,000)."""
    logging.getLogger("discord").setLevel(logging.ERROR)
    return asyncio.run(measure(max(n, 100_000), only=only, engines=engines))


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.engagement_reports")
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1,000,000 events")
    parser.add_argument("--only", default="", help="only the figures whose label holds this")
    parser.add_argument(
        "--db", choices=["sqlite", "postgres", "both"], default="both", help="which database"
    )
    args = parser.parse_args()
    from bench.run import print_table

    engines = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    print_table(run(1_000_000 if args.quick else args.n, args.only, engines))


if __name__ == "__main__":
    main()
