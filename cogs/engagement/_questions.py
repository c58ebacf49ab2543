"""Question figures: who answers, how fast, what is still open (read from the questions table)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.engagement._metrics import Period, median, ratio
from cogs.engagement._models import OPTOUTS, QUESTION_DAYS, QUESTIONS

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
    q = QUESTIONS.c
    where = [*_where(community, channel), q.day.between(period.first, period.last)]
    if channel is None:  # one row a day (``engagement_question_days``)
        d = QUESTION_DAYS.c
        asked = select(null(), null(), null(), null(), func.coalesce(func.sum(d.asked), 0)).where(
            d.community_id == community, d.day.between(period.first, period.last)
        )
    else:
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
    helpers = sorted(firsts.items(), key=lambda found: (-found[1], found[0]))[:TOP_HELPERS]
    return Answers(
        asked=total,
        answered=len(waits),
        median_s=median(waits),
        by_staff=int(staff),
        within_hour=sum(1 for w in waits if w <= HOUR),
        within_day=sum(1 for w in waits if w <= 24 * HOUR),
        helpers=[(str(u), n) for u, n in helpers],
    )


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
