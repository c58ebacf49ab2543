"""Reading the rollups into figures, and the privacy operations (opt-out, export, expiry)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Table,
    case,
    delete,
    distinct,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.engagement._metrics import (
    RETENTION_DAYS,
    Cohort,
    Graph,
    Period,
    date_of,
    median,
    ratio,
    stickiness,
)
from cogs.engagement._models import (
    CHANNEL_DAYS,
    CHANNELS,
    DAYS,
    EDGES,
    EVENTS,
    MEMBER_DAYS,
    MEMBERS,
    OPTOUTS,
    QUESTIONS,
)

MD = MEMBER_DAYS
CD = CHANNEL_DAYS


@dataclass
class Figures:
    """Everything a report shows for one period (and optionally one channel)."""

    period: Period
    channel: str | None
    daily_active: dict[int, int]
    active: int
    wau: int
    mau: int
    stickiness: float | None
    messages: int
    reactions: int
    replies: int
    p2p_ratio: float | None
    new_members: int
    cohorts: list[Cohort]
    questions: int
    answered: int
    response_rate: float | None
    median_response_s: float | None
    connected: list[str]
    largest_group: int
    bridges: list[str]
    sentiment: dict[int, float] = field(default_factory=dict)
    daily_messages: dict[int, int] = field(default_factory=dict)


def _rollup(channel: str | None) -> Table:
    return CD if channel is not None else MD


def _scope(
    table: Table, community: str, channel: str | None, first: int, last: int
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        table.c.community_id == community,
        table.c.day.between(first, last),
    ]
    if channel is not None:
        where.append(table.c.channel_id == channel)
    return where


async def daily_active(
    session: AsyncSession, community: str, first: int, last: int, channel: str | None = None
) -> dict[int, int]:
    """Distinct active members per day (DAU), from the rollup (one row a day community-wide)."""
    if channel is None:
        d = DAYS.c
        found = await session.execute(
            select(d.day, d.active).where(
                d.community_id == community, d.day.between(first, last), d.active > 0
            )
        )
        return {int(day): int(n) for day, n in found}
    t = _rollup(channel)
    counted = func.count(distinct(t.c.user_id)) if channel is not None else func.count()
    rows = await session.execute(
        select(t.c.day, counted)
        .where(*_scope(t, community, channel, first, last))
        .group_by(t.c.day)
    )
    return {int(d): int(n) for d, n in rows}


async def distinct_active(
    session: AsyncSession, community: str, first: int, last: int, channel: str | None = None
) -> int:
    """Distinct members active at least once in the days ``first`` .. ``last``."""
    return (await active_since(session, community, (first,), last, channel))[0]


async def active_since(
    session: AsyncSession,
    community: str,
    firsts: Sequence[int],
    last: int,
    channel: str | None = None,
) -> list[int]:
    """Per day in ``firsts``: distinct members active in ``first .. last`` (WAU, MAU, period).

    Community-wide, a member's ``last_day`` is their latest row in the member days, so while
    nobody was active after ``last`` (a period ending today) a member was active since ``first``
    exactly when ``last_day >= first``: one pass over one row a member. Otherwise, and per
    channel, one pass over the days' rows, each member's latest day within them.
    """
    since = min(firsts)
    if channel is None:
        m = MEMBERS.c
        later, *counts = (
            await session.execute(
                select(
                    func.count(case((m.last_day > last, 1))),
                    *(func.count(case((m.last_day >= first, 1))) for first in firsts),
                ).where(m.community_id == community, m.last_day >= since)
            )
        ).one()
        if not later:
            return [int(n) for n in counts]
    t = _rollup(channel)
    scope = _scope(t, community, channel, since, last)
    if len(set(firsts)) == 1:
        # COUNT over a DISTINCT subquery: PostgreSQL hashes it, where COUNT(DISTINCT) sorts (3x).
        members = select(t.c.user_id).where(*scope).distinct().subquery()
        return [int(await session.scalar(select(func.count()).select_from(members)) or 0)]
    # Several windows ending at ``last``: one pass, one row a member with their latest day.
    latest = select(func.max(t.c.day).label("day")).where(*scope).group_by(t.c.user_id).subquery()
    found = (
        await session.execute(
            select(*(func.count(case((latest.c.day >= first, 1))) for first in firsts))
        )
    ).one()
    return [int(n) for n in found]


async def retention_matrix(session: AsyncSession, community: str, today: int) -> list[Cohort]:
    """Weekly cohorts of the last 13 weeks with day-1/7/30 retention, aggregated in SQL."""
    m = MEMBERS.c
    week = (m.joined_day + 3) // 7  # integer division: week_of (``/`` is NUMERIC on PostgreSQL)
    columns: list[object] = [week, func.count()]
    for n in RETENTION_DAYS:
        old = m.joined_day + n <= today
        columns.append(func.sum(case((old, 1), else_=0)))
        columns.append(func.sum(case((old & (m.last_day >= m.joined_day + n), 1), else_=0)))
    rows = await session.execute(
        select(*columns)  # type: ignore[call-overload]
        .where(m.community_id == community, m.joined_day.is_not(None))
        .where(m.joined_day > today - 13 * 7)
        .group_by(week)
        .order_by(week)
    )
    cohorts = []
    for row in rows:
        eligible = tuple(int(row[2 + 2 * i]) for i in range(len(RETENTION_DAYS)))
        kept = tuple(
            int(row[3 + 2 * i]) if eligible[i] else None for i in range(len(RETENTION_DAYS))
        )
        cohorts.append(Cohort(int(row[0]), int(row[1]), kept, eligible))
    return cohorts


async def figures(
    session: AsyncSession, community: str, period: Period, channel: str | None = None
) -> Figures:
    """Every figure of the report for a period, read from the rollups only."""
    t = _rollup(channel)
    window = Period(period.last - 29, period.last)
    dau = await daily_active(
        session, community, min(period.first, window.first), period.last, channel
    )
    mau, wau, active = await active_since(
        session, community, (window.first, period.last - 6, period.first), period.last, channel
    )
    totals = DAYS if channel is None else t
    sums = (
        await session.execute(
            select(
                func.coalesce(func.sum(totals.c.messages), 0),
                func.coalesce(func.sum(totals.c.reactions), 0),
                func.coalesce(func.sum(totals.c.replies), 0),
                func.coalesce(func.sum(totals.c.p2p_replies), 0),
                func.coalesce(func.sum(totals.c.staff_replies), 0),
            ).where(*_scope(totals, community, channel, period.first, period.last))
        )
    ).one()
    per_day = await session.execute(
        select(DAYS.c.day, DAYS.c.messages, DAYS.c.sentiment_sum, DAYS.c.sentiment_n).where(
            DAYS.c.community_id == community, DAYS.c.day.between(period.first, period.last)
        )
        if channel is None
        else select(
            t.c.day, func.sum(t.c.messages), func.sum(t.c.sentiment_sum), func.sum(t.c.sentiment_n)
        )
        .where(*_scope(t, community, channel, period.first, period.last))
        .group_by(t.c.day)
    )
    daily_messages: dict[int, int] = {}
    mood: dict[int, float] = {}
    for day, messages, total, n in per_day:
        daily_messages[int(day)] = int(messages or 0)
        if n:
            mood[int(day)] = float(total) / int(n)
    m = MEMBERS.c
    new_members = await session.scalar(
        select(func.count()).where(
            m.community_id == community, m.joined_day.between(period.first, period.last)
        )
    )
    q = QUESTIONS.c
    where_q = [q.community_id == community, q.day.between(period.first, period.last)]
    if channel is not None:
        where_q.append(q.channel_id == channel)
    asked = (await session.execute(select(q.asked_at, q.answered_at).where(*where_q))).all()
    waits = [(a - s).total_seconds() for s, a in asked if a is not None]
    e = EDGES.c
    where_e = [e.community_id == community, e.day.between(period.first, period.last)]
    if channel is not None:
        where_e.append(e.channel_id == channel)
    pairs = (await session.execute(select(e.from_user, e.to_user).where(*where_e).distinct())).all()
    graph = Graph.of((a, b) for a, b in pairs)
    return Figures(
        period=period,
        channel=channel,
        daily_active={d: n for d, n in dau.items() if period.first <= d <= period.last},
        active=active,
        wau=wau,
        mau=mau,
        stickiness=stickiness(dau, window, mau),
        messages=int(sums[0]),
        reactions=int(sums[1]),
        replies=int(sums[2]),
        p2p_ratio=ratio(int(sums[3]), int(sums[3]) + int(sums[4])),
        new_members=int(new_members or 0),
        cohorts=await retention_matrix(session, community, period.last),
        questions=len(asked),
        answered=len(waits),
        response_rate=ratio(len(waits), len(asked)),
        median_response_s=median(waits),
        connected=graph.connected(3),
        largest_group=len(graph.largest_group()),
        bridges=graph.bridges(),
        sentiment=mood,
        daily_messages=daily_messages,
    )


@dataclass(frozen=True)
class OpenQuestion:
    """A question nobody else has answered yet."""

    channel_id: str
    message_id: str
    user_id: str
    asked_at: datetime


async def unanswered(session: AsyncSession, community: str, limit: int = 15) -> list[OpenQuestion]:
    """Open questions, oldest first."""
    q = QUESTIONS.c
    rows = await session.execute(
        select(q.channel_id, q.message_id, q.user_id, q.asked_at)
        .where(q.community_id == community, q.answered_at.is_(None))
        .order_by(q.asked_at)
        .limit(limit)
    )
    return [OpenQuestion(*row) for row in rows]


@dataclass(frozen=True)
class Mine:
    """A member's own activity in a period."""

    messages: int
    reactions: int
    replies: int
    questions: int
    active_days: int


async def mine(session: AsyncSession, community: str, user: str, period: Period) -> Mine:
    """What one member did in a period."""
    t = MD.c
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(t.messages), 0),
                func.coalesce(func.sum(t.reactions), 0),
                func.coalesce(func.sum(t.replies), 0),
                func.coalesce(func.sum(t.questions), 0),
                func.count(),
            ).where(
                t.community_id == community,
                t.user_id == user,
                t.day.between(period.first, period.last),
            )
        )
    ).one()
    return Mine(*(int(v) for v in row))


async def forget(session: AsyncSession, community: str, user: str, now: datetime) -> None:
    """Opt a member out: record it and delete everything stored about them."""
    from cogs.engagement._ingest import upsert

    m = MEMBER_DAYS.c
    counts = ("messages", "reactions", "replies", "questions", "p2p_replies", "staff_replies")
    theirs = (
        await session.execute(
            select(m.day, *(m[c] for c in (*counts, "sentiment_sum", "sentiment_n"))).where(
                m.community_id == community, m.user_id == user
            )
        )
    ).all()
    d = DAYS.c
    for day, *values in theirs:
        taken = dict(zip((*counts, "sentiment_sum", "sentiment_n"), values, strict=True))
        await session.execute(
            update(DAYS)
            .where(d.community_id == community, d.day == day)
            .values(active=d.active - 1, **{c: d[c] - v for c, v in taken.items()})
        )
    for table in (EVENTS, MEMBER_DAYS, CHANNEL_DAYS, MEMBERS):
        await session.execute(
            delete(table).where(table.c.community_id == community, table.c.user_id == user)
        )
    e = EDGES.c
    await session.execute(
        delete(EDGES).where(
            e.community_id == community, (e.from_user == user) | (e.to_user == user)
        )
    )
    q = QUESTIONS.c
    await session.execute(delete(QUESTIONS).where(q.community_id == community, q.user_id == user))
    await session.execute(
        update(QUESTIONS)
        .where(q.community_id == community, q.answered_by == user)
        .values(answered_by=None)
    )
    ev = EVENTS.c
    await session.execute(
        update(EVENTS)
        .where(ev.community_id == community, ev.target_user_id == user)
        .values(target_user_id=None)
    )
    dialect = session.get_bind().dialect.name
    await session.execute(
        upsert(dialect, OPTOUTS).on_conflict_do_nothing(),
        [{"community_id": community, "user_id": user, "at": now}],
    )


async def opt_in(session: AsyncSession, community: str, user: str) -> None:
    """Track a member again from now on."""
    o = OPTOUTS.c
    await session.execute(delete(OPTOUTS).where(o.community_id == community, o.user_id == user))


async def opted_out(session: AsyncSession) -> list[tuple[str, str]]:
    """Every (community, member) who opted out."""
    o = OPTOUTS.c
    return [(c, u) for c, u in await session.execute(select(o.community_id, o.user_id))]


async def export_csv(session: AsyncSession, community: str) -> bytes:
    """Per day and channel: active members, messages, reactions, replies, questions, mood."""
    t = CD.c
    rows = await session.execute(
        select(
            t.day,
            t.channel_id,
            func.count(distinct(t.user_id)),
            func.sum(t.messages),
            func.sum(t.reactions),
            func.sum(t.replies),
            func.sum(t.questions),
            func.sum(t.sentiment_sum),
            func.sum(t.sentiment_n),
        )
        .where(t.community_id == community)
        .group_by(t.day, t.channel_id)
        .order_by(t.day, t.channel_id)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "channel",
            "active_members",
            "messages",
            "reactions",
            "replies",
            "questions",
            "mean_sentiment",
        ]
    )
    for day, channel, active, messages, reactions, replies, questions, total, n in rows:
        mood = f"{float(total) / int(n):.3f}" if n else ""
        writer.writerow(
            [
                date_of(int(day)).isoformat(),
                channel,
                active,
                messages,
                reactions,
                replies,
                questions,
                mood,
            ]
        )
    return out.getvalue().encode()


async def expire_raw(session: AsyncSession, community: str, before: datetime) -> int:
    """Delete raw events older than ``before``; rollups stay."""
    e = EVENTS.c
    result = await session.execute(delete(EVENTS).where(e.community_id == community, e.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def cursor(session: AsyncSession, community: str, channel: str) -> str | None:
    """The last stored message of a channel, where catch-up resumes."""
    c = CHANNELS.c
    found = await session.scalar(
        select(c.last_message_id).where(c.community_id == community, c.channel_id == channel)
    )
    return str(found) if found is not None else None


async def cursors(session: AsyncSession, community: str) -> dict[str, str]:
    """Every channel's last stored message in a community."""
    c = CHANNELS.c
    found = await session.execute(
        select(c.channel_id, c.last_message_id).where(c.community_id == community)
    )
    return {str(channel): str(message) for channel, message in found}
