"""Question figures: who answers, how fast, what is still open (read from the questions table)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.engagement._metrics import Period, median, ratio
from cogs.engagement._models import (
    ANSWER_BUCKETS,
    ANSWER_WAITS,
    HELPER_DAYS,
    OPTOUTS,
    QUESTION_DAYS,
    QUESTIONS,
)

HOUR = 3600.0
TOP_HELPERS = 5


@dataclass(frozen=True)
class Answers:
    """How the questions asked in a period were answered."""

    asked: int
    answered: int
    median_s: float | None
    by_staff: int
    within_hour: int
    within_day: int
    helpers: list[tuple[str, int]]
    """Members who answered others' questions first, most first (opted-out members never)."""

    @property
    def rate(self) -> float | None:
        """Share of questions answered."""
        return ratio(self.answered, self.asked)

    def share(self, part: int) -> float | None:
        """``part`` among the questions asked."""
        return ratio(part, self.asked)


WAIT_BOUNDS = (
    *(10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2400, 3000),
    *(3600, 4500, 5400, 7200, 9000, 10800, 14400, 18000, 21600, 28800, 36000, 43200, 57600),
    *(72000, 86400, 108000, 129600, 172800, 216000, 259200, 345600, 432000, 604800, 1209600),
    2592000,
)
"""The wait buckets of ``engagement_answer_buckets`` (seconds): bucket ``i`` holds the waits up
to ``WAIT_BOUNDS[i]`` (and above the bound before), the last one everything longer. Migration
0021 writes them into its triggers."""


_BOUNDS_US = [b * 1_000_000 for b in WAIT_BOUNDS]


def bucket_of(wait_us: int) -> int:
    """The wait bucket of a first response ``wait_us`` microseconds after the question."""
    return bisect_left(_BOUNDS_US, wait_us)


def _where(community: str, channel: str | None) -> list[ColumnElement[bool]]:
    q = QUESTIONS.c
    where = [q.community_id == community]
    if channel is not None:
        where.append(q.channel_id == channel)
    return where


async def answers(
    session: AsyncSession, community: str, period: Period, channel: str | None = None
) -> Answers:
    """The questions asked in a period and their first answers."""
    if channel is None:
        return await _community_answers(session, community, period)
    q = QUESTIONS.c
    where = [*_where(community, channel), q.day.between(period.first, period.last)]
    asked = select(null(), null(), null(), null(), func.count()).where(*where)
    # Only the answered questions are read one by one (for the median and the helpers), off
    # their own partial index: a report's period may hold many questions nobody answered.
    # One round trip: the answered questions, then a row with the number asked.
    o = OPTOUTS.c
    gone = select(o.user_id).where(o.community_id == community, o.user_id == q.answered_by)
    answered = select(
        q.asked_at,
        q.answered_at,
        q.answered_by_staff,
        case((gone.exists(), None), else_=q.answered_by),  # opted out: never shown
        null(),
    ).where(*where, q.answered_at.is_not(None))
    rows = (await session.execute(union_all(answered, asked))).all()
    total = next(int(n or 0) for s, *_, n in rows if s is None)
    rows = [row for row in rows if row[0] is not None]
    waits = [(a - s).total_seconds() for s, a, *_ in rows]
    staff = sum(1 for _s, _a, by_staff, *_ in rows if by_staff)
    firsts = Counter(by for *_, by, _n in rows if by is not None)
    return Answers(
        asked=total,
        answered=len(waits),
        median_s=median(waits),
        by_staff=int(staff),
        within_hour=sum(1 for w in waits if w <= HOUR),
        within_day=sum(1 for w in waits if w <= 24 * HOUR),
        helpers=_ranked(firsts.items()),
    )


def _ranked(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    ranked = sorted(counts, key=lambda found: (-found[1], found[0]))[:TOP_HELPERS]
    return [(str(u), int(n)) for u, n in ranked]


async def questions_asked(session: AsyncSession, community: str, period: Period) -> int:
    """The questions asked in a period (and not deleted), alone: one row a day."""
    d = QUESTION_DAYS.c
    found = await session.scalar(
        select(func.sum(d.asked)).where(
            d.community_id == community, d.day.between(period.first, period.last)
        )
    )
    return int(found or 0)


async def _community_answers(session: AsyncSession, community: str, period: Period) -> Answers:
    """``answers`` for the whole community, from the rows kept per day (a few per day, and the
    exact waits of the one bucket the median falls in)."""
    d, b = QUESTION_DAYS.c, ANSWER_BUCKETS.c
    in_period = d.day.between(period.first, period.last)
    # One round trip: the period's sums (bucket -1), then the answered questions per bucket.
    sums = select(
        literal(-1),
        *(func.sum(c) for c in (d.asked, d.answered, d.by_staff, d.within_hour, d.within_day)),
    ).where(d.community_id == community, in_period)
    buckets = (
        select(b.bucket, func.sum(b.answered), *(literal(0) for _ in range(4)))
        .where(b.community_id == community, b.day.between(period.first, period.last))
        .group_by(b.bucket)
    )
    rows: list[Any] = list(await session.execute(union_all(sums, buckets)))
    asked, answered, staff, hour, day = next(
        (int(n or 0) for n in rest) for k, *rest in rows if k < 0
    )
    counts = sorted((int(k), int(rest[0])) for k, *rest in rows if k >= 0 and rest[0])
    if not answered:
        return Answers(asked, 0, None, staff, hour, day, [])
    # A second round trip: the waits of the bucket(s) the median falls in, and the helpers.
    waits, below, middle = _median_bucket(community, period, counts)
    least = answered // (period.days * 100)
    pg = session.get_bind().dialect.name == "postgresql"
    helpers = _helpers_query(community, period, least, pg)
    found: list[Any] = list(await session.execute(union_all(waits, helpers)))
    median_s = _median_of(
        sorted((int(w), int(n)) for k, w, n, *_ in found if k == 0), below, middle
    )
    ranked = [(str(u), int(n), bool(away)) for k, _w, n, u, away in found if k == 1]
    top = _top_of(ranked, least, period.days, answered)
    while top is None:
        least //= 4
        more = await session.execute(_helpers_query(community, period, least, pg))
        top = _top_of(
            [(str(u), int(n), bool(a)) for _k, _w, n, u, a in more], least, period.days, answered
        )
    return Answers(asked, answered, median_s, staff, hour, day, top)


def _median_bucket(
    community: str, period: Period, counts: list[tuple[int, int]]
) -> tuple[Any, int, list[int]]:
    """The query for the waits of the bucket(s) holding the middle answer(s) (from the answered
    questions per wait bucket, ``counts``, in bucket order), the answers in the buckets before
    and the middle positions."""
    total = sum(n for _, n in counts)
    middle = sorted({(total - 1) // 2, total // 2})
    below, lo, hi, seen = 0, -1, -1, 0
    for k, n in counts:
        if lo < 0 and seen + n > middle[0]:
            lo, below = k, seen
        if seen + n > middle[-1]:
            hi = k
            break
        seen += n
    w = ANSWER_WAITS.c
    query = select(literal(0), w.wait_us, w.answered, cast(null(), String), literal(False)).where(
        w.community_id == community,
        w.bucket.between(lo, hi),
        w.day.between(period.first, period.last),
    )
    return query, below, middle


def _median_of(waits: list[tuple[int, int]], below: int, middle: list[int]) -> float | None:
    """The exact median first response (seconds) from the waits (microseconds, how many) of
    the median's bucket(s), in order, ``below`` answers coming before them."""
    found: list[float] = []
    position = below
    for wait, n in waits:
        for index in middle:
            if position <= index < position + n:
                found.append(wait / 1_000_000)
        position += n
        if position > middle[-1]:
            break
    if not found:
        return None
    return found[0] if len(found) == 1 else (found[0] + found[1]) / 2


def _helpers_query(community: str, period: Period, least: int, pg: bool) -> Any:
    """The members with the most first answers in the period: (1, None, answers, member,
    opted out) rows.

    With many answers a day, only members with at least ``least`` answers on one of the
    period's days are added up (``_top_of`` says whether that was enough); otherwise every
    helper is, the five first returned."""
    h, o = HELPER_DAYS.c, OPTOUTS.c
    if least <= 1:
        gone = select(o.user_id).where(o.community_id == community, o.user_id == h.user_id)
        most = func.sum(h.answers)
        # Ties by name in code-point order, as Python sorts (PostgreSQL's collation may not).
        by_name = h.user_id.collate("C") if pg else h.user_id
        top = (
            select(h.user_id, most.label("n"))
            .where(
                h.community_id == community,
                h.day.between(period.first, period.last),
                ~gone.exists(),
            )
            .group_by(h.user_id)
            .order_by(most.desc(), by_name)
            .limit(TOP_HELPERS)
            .subquery()
        )
        return select(literal(1), null(), top.c.n, top.c.user_id, literal(False))
    # Grouped by an expression: SQLite would otherwise walk the members' index for the
    # grouping rather than probe each day's busy rows.
    member = h.user_id.op("||")(literal_column("''"))
    busy = (
        select(member.label("user_id"))
        .group_by(member)
        .where(
            # One probe per day (a list of days, not a range: each day's busy rows only).
            h.community_id == community,
            h.day.in_(
                bindparam("days", list(range(period.first, period.last + 1)), expanding=True)
            ),
            h.answers >= bindparam("least", least),
        )
        .subquery()
    )
    # Each one's total by their own rows (a correlated sum: an index probe per member).
    mine = HELPER_DAYS.alias("mine")
    total = (
        select(func.sum(mine.c.answers))
        .where(mine.c.community_id == community, mine.c.user_id == busy.c.user_id)
        .where(mine.c.day.between(period.first, period.last))
        .scalar_subquery()
    )
    away = select(o.user_id).where(o.community_id == community, o.user_id == busy.c.user_id)
    return select(literal(1), null(), total, busy.c.user_id, away.exists())


def _top_of(
    found: list[tuple[str, int, bool]], least: int, days: int, answered: int
) -> list[tuple[str, int]] | None:
    """The top helpers from (member, answers, opted out) rows of ``_helpers_query``, or None
    when more members must be added up: a member with fewer than ``least`` answers every day
    has at most ``(least - 1) * days`` (and no more than the answers not added up), so the
    list is exact when the fifth helper found has more."""
    top = _ranked([(u, n) for u, n, away in found if not away])
    if least <= 1:
        return top
    bound = min((least - 1) * days, answered - sum(n for _, n, _ in found))
    if bound <= 0 or (len(top) == TOP_HELPERS and top[-1][1] > bound):
        return top
    return None


@dataclass(frozen=True)
class OpenQuestion:
    """A question nobody else has answered yet."""

    channel_id: str
    thread_id: str | None
    message_id: str
    user_id: str
    asked_at: datetime


async def open_questions(
    session: AsyncSession, community: str, channel: str | None = None
) -> list[OpenQuestion]:
    """Every open question, oldest first."""
    q = QUESTIONS.c
    rows = await session.execute(
        select(q.channel_id, q.thread_id, q.message_id, q.user_id, q.asked_at)
        .where(*_where(community, channel), q.answered_at.is_(None))
        .order_by(q.asked_at, q.key)
    )
    return [OpenQuestion(*row) for row in rows]
