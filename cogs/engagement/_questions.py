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
    bindparam,
    case,
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
0020 writes them into its triggers."""


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
    return Answers(
        asked=asked,
        answered=answered,
        median_s=await _median_wait(session, community, period, counts),
        by_staff=staff,
        within_hour=hour,
        within_day=day,
        helpers=await _top_helpers(session, community, period, answered) if answered else [],
    )


async def _median_wait(
    session: AsyncSession, community: str, period: Period, counts: list[tuple[int, int]]
) -> float | None:
    """The exact median first response (seconds): the answered questions per wait bucket
    (``counts``, in bucket order) say which bucket holds the middle answer(s); only that
    bucket's waits are read."""
    total = sum(n for _, n in counts)
    if not total:
        return None
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
    rows = await session.execute(
        select(w.wait_us, w.answered)
        .where(
            w.community_id == community,
            w.bucket.between(lo, hi),
            w.day.between(period.first, period.last),
        )
        .order_by(w.wait_us)
    )
    found: list[float] = []
    position = below
    for wait, n in rows:
        for index in middle:
            if position <= index < position + int(n):
                found.append(int(wait) / 1_000_000)
        position += int(n)
        if position > middle[-1]:
            break
    return found[0] if len(found) == 1 else (found[0] + found[1]) / 2


async def _top_helpers(
    session: AsyncSession, community: str, period: Period, answered: int
) -> list[tuple[str, int]]:
    """The members with the most first answers in the period (opted-out members never).

    With many answers a day, only members with at least ``least`` answers on one of the
    period's days are added up: a member with fewer every day has at most
    ``(least - 1) * days`` (and no more than the answers not added up), so when the fifth
    helper found has more, the list is exact; otherwise ``least`` is lowered, down to every
    helper added up."""
    h, o = HELPER_DAYS.c, OPTOUTS.c
    gone = select(o.user_id).where(o.community_id == community, o.user_id == h.user_id)
    period_rows = [h.community_id == community, h.day.between(period.first, period.last)]
    days = period.days
    least = answered // (days * 100)
    while least > 1:
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
        counted, shown = 0, []
        for user, n, opted_out in await session.execute(
            select(busy.c.user_id, total, away.exists())
        ):
            counted += int(n)
            if not opted_out:
                shown.append((str(user), int(n)))
        top = _ranked(shown)
        bound = min((least - 1) * days, answered - counted)
        if bound <= 0 or (len(top) == TOP_HELPERS and top[-1][1] > bound):
            return top
        least //= 4
    most = func.sum(h.answers)
    # Ties by name in code-point order, as Python sorts (PostgreSQL's collation may not).
    by_name = (
        h.user_id.collate("C") if session.get_bind().dialect.name == "postgresql" else h.user_id
    )
    rows = await session.execute(
        select(h.user_id, most)
        .where(*period_rows, ~gone.exists())
        .group_by(h.user_id)
        .order_by(most.desc(), by_name)
        .limit(TOP_HELPERS)
    )
    return [(str(u), int(n)) for u, n in rows]


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
