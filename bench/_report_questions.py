"""The questions ``engagement_reports`` times: each figure of the report, for the latest 30 days
and for the 30 days before (a past period), from the rollups and as plain SQL over raw events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from typing import Any

Query = Callable[[Any], Awaitable[Any]]


def _at(day: int) -> datetime:
    from cogs.engagement._metrics import date_of

    return datetime.combine(date_of(day), time(), UTC)


def questions(
    community: str, today: int, dau_goal: float
) -> list[tuple[str, Query, Query, float | None]]:
    """(label, from the rollups, from the raw events, goal in ms) per figure and window."""
    from cogs.engagement._metrics import Period

    found: list[tuple[str, Query, Query, float | None]] = []
    latest = Period(today - 29, today)
    for name, period in (("latest 30 days", latest), ("the 30 days before", latest.before())):
        for label, rollup, raw, goal in _per_period(community, period, dau_goal):
            found.append((f"{label}, {name}", rollup, raw, goal))
    return found


def _per_period(
    community: str, period: Any, dau_goal: float
) -> list[tuple[str, Query, Query, float | None]]:
    from sqlalchemy import case, distinct, func, select

    from cogs.engagement import _repo
    from cogs.engagement._models import EVENTS
    from cogs.engagement._questions import answers, questions_asked

    e = EVENTS.c
    active = e.kind.in_(["message", "reaction"])

    def window(first: int) -> list[Any]:
        return [
            e.community_id == community,
            e.at >= _at(first),
            e.at < _at(period.last + 1),
            active,
        ]

    async def distinct_raw(s: Any, first: int, *extra: Any) -> int:
        where = [*window(first), *extra]
        return int(await s.scalar(select(func.count(distinct(e.user_id))).where(*where)) or 0)

    async def dau(s: Any) -> Any:
        return await _repo.daily_active(s, community, period.first, period.last)

    async def dau_raw(s: Any) -> Any:
        rows = await s.execute(
            select(e.day, func.count(distinct(e.user_id)))
            .where(*window(period.first))
            .group_by(e.day)
        )
        return {int(d): int(k) for d, k in rows}

    async def mau(s: Any) -> Any:
        return await _repo.distinct_active(s, community, period.first, period.last)

    async def mau_raw(s: Any) -> Any:
        return await distinct_raw(s, period.first)

    async def wau(s: Any) -> Any:
        return await _repo.distinct_active(s, community, period.last - 6, period.last)

    async def wau_raw(s: Any) -> Any:
        return await distinct_raw(s, period.last - 6)

    async def talkers(s: Any) -> Any:
        found = await _repo.active_since(s, community, (period.first,), period.last, posted=True)
        return found[0]

    async def talkers_raw(s: Any) -> Any:
        return await distinct_raw(s, period.first, e.kind == "message")

    async def joiners(s: Any) -> Any:
        joined, _left, never = await _repo.arrivals(s, community, period)
        return (joined, never)

    async def joiners_raw(s: Any) -> Any:
        # Members join on their first active day here (the generator has no join events).
        spans = (
            select(
                e.user_id,
                func.min(e.day).label("first"),
                func.min(case((e.kind == "message", e.day))).label("posted"),
            )
            .where(e.community_id == community, active)
            .group_by(e.user_id)
            .subquery()
        )
        joined = spans.c.first.between(period.first, period.last)
        row = (
            await s.execute(
                select(func.count(), func.count(case((spans.c.posted.is_(None), 1)))).where(joined)
            )
        ).one()
        return (int(row[0]), int(row[1]))

    async def asked(s: Any) -> Any:
        return await questions_asked(s, community, period)

    async def asked_raw(s: Any) -> Any:
        where = [*window(period.first), e.kind == "message", e.is_question]
        return int(await s.scalar(select(func.count()).where(*where)) or 0)

    async def answered(s: Any) -> Any:
        return await answers(s, community, period)

    async def answered_raw(s: Any) -> Any:
        return await raw_answers(s, community, _at(period.first), _at(period.last + 1))

    async def retention(s: Any) -> Any:
        return await _repo.retention_matrix(s, community, period.last)

    async def retention_raw(s: Any) -> Any:
        from bench.engagement_reports import raw_retention

        return await raw_retention(s, community, period.last)

    async def report(s: Any) -> Any:
        f = await _repo.figures(s, community, period)
        return (
            f.daily_active,
            f.active,
            f.wau,
            f.mau,
            f.messages,
            f.reactions,
            f.cohorts,
            f.answers,
        )

    async def report_raw(s: Any) -> Any:
        sums = (
            await s.execute(
                select(
                    func.sum(case((e.kind == "message", 1), else_=0)),
                    func.sum(case((e.kind == "reaction", 1), else_=0)),
                ).where(*window(period.first))
            )
        ).one()
        month = await mau_raw(s)
        return (
            await dau_raw(s),
            month,
            await wau_raw(s),
            month,
            int(sums[0]),
            int(sums[1]),
            await retention_raw(s),
            await answered_raw(s),
        )

    return [
        ("DAU per day", dau, dau_raw, dau_goal),
        ("active members (MAU)", mau, mau_raw, None),
        ("WAU", wau, wau_raw, None),
        ("communicators", talkers, talkers_raw, None),
        ("new members, never posted", joiners, joiners_raw, None),
        ("questions asked", asked, asked_raw, None),
        (
            "questions answered, median wait, 1h/24h, staff, top helpers",
            answered,
            answered_raw,
            None,
        ),
        ("retention matrix, 13 weekly cohorts", retention, retention_raw, 100.0),
        ("whole health report", report, report_raw, None),
    ]


async def raw_answers(s: Any, community: str, start: datetime, end: datetime) -> Any:
    """The questions asked from ``start`` to ``end`` and their first answers, from the raw
    events: each question's earliest reply by someone else (opted-out helpers never shown)."""
    from collections import Counter

    from sqlalchemy import and_, case, func, select

    from cogs.engagement._metrics import median
    from cogs.engagement._models import EVENTS, OPTOUTS
    from cogs.engagement._questions import HOUR, TOP_HELPERS, Answers

    q, r, o = EVENTS.alias("q"), EVENTS.alias("r"), OPTOUTS.c
    asked = [
        q.c.community_id == community,
        q.c.at >= start,
        q.c.at < end,
        q.c.kind == "message",
        q.c.is_question,
    ]
    total = int(await s.scalar(select(func.count()).select_from(q).where(*asked)) or 0)
    replies = and_(
        r.c.community_id == q.c.community_id,
        r.c.target_key == q.c.key,
        r.c.kind == "message",
        r.c.user_id != q.c.user_id,
        r.c.at >= q.c.at,
    )
    first = (
        select(
            q.c.at.label("asked"),
            r.c.at.label("answered"),
            r.c.user_id,
            r.c.from_staff,
            func.row_number().over(partition_by=q.c.key, order_by=(r.c.at, r.c.key)).label("n"),
        )
        .select_from(q.join(r, replies))
        .where(*asked, r.c.community_id == community, r.c.at >= start)
        .subquery()
    )
    gone = select(o.user_id).where(o.community_id == community, o.user_id == first.c.user_id)
    rows = (
        await s.execute(
            select(
                first.c.asked,
                first.c.answered,
                first.c.from_staff,
                case((gone.exists(), None), else_=first.c.user_id),
            ).where(first.c.n == 1)
        )
    ).all()
    waits = [(a - q_at).total_seconds() for q_at, a, _, _ in rows]
    helpers = Counter(str(by) for *_, by in rows if by is not None)
    top = sorted(helpers.items(), key=lambda found: (-found[1], found[0]))[:TOP_HELPERS]
    return Answers(
        asked=total,
        answered=len(rows),
        median_s=median(waits),
        by_staff=sum(1 for _, _, staff, _ in rows if staff),
        within_hour=sum(1 for w in waits if w <= HOUR),
        within_day=sum(1 for w in waits if w <= 24 * HOUR),
        helpers=top,
    )
