"""Reading the rollups into figures, and the privacy operations (opt-out, export, expiry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    and_,
    case,
    distinct,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cogs.engagement._metrics import (
    RETENTION_WEEKS,
    Cohort,
    Graph,
    Period,
    cohort_weeks,
    complete,
    ratio,
    stickiness,
    week_start,
)
from cogs.engagement._models import (
    BLOCK_DAYS,
    CHANNEL_DAYS,
    DAYS,
    EDGES,
    GAP_WINDOW,
    MEMBER_BLOCKS,
    MEMBER_DAYS,
    MEMBER_GAPS,
    MEMBERS,
)
from cogs.engagement._questions import Answers, answers

MD = MEMBER_DAYS
CD = CHANNEL_DAYS


@dataclass
class Figures:
    """Everything a report shows for one period (and optionally one channel)."""

    period: Period
    channel: str | None
    daily_active: dict[int, int]
    active: int
    communicators: int
    wau: int | None
    mau: int | None
    stickiness: float | None
    messages: int
    reactions: int
    replies: int
    p2p_ratio: float | None
    new_members: int
    departures: int
    never_posted: int
    cohorts: list[Cohort]
    answers: Answers
    connected: list[str]
    largest_group: int
    bridges: list[str]
    sentiment: dict[int, float] = field(default_factory=dict)
    daily_messages: dict[int, int] = field(default_factory=dict)

    @property
    def net_growth(self) -> int:
        """New members less departures."""
        return self.new_members - self.departures


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
    *,
    posted: bool = False,
) -> list[int]:
    """Per day in ``firsts``: distinct members active in ``first .. last`` (WAU, MAU, period);
    with ``posted``, members who posted (communicators).

    Community-wide, a member's ``last_day`` is their latest row in the member days (and
    ``last_posted_day`` their latest with a message), so while nobody was active after ``last``
    (a period ending today) a member was active since ``first`` exactly when
    ``last_day >= first``: one range of an index. Otherwise, from the
    member blocks: one row per member and 60-day block, a bit per day, so a window ending on
    any day is read alike. Per channel, one pass over the channel days, each member's latest
    day within the window.
    """
    if channel is None and last - min(firsts) < GAP_WINDOW:
        return await _from_gaps(session, community, firsts, last, posted=posted)
    if channel is None and not await _active_after(session, community, last):
        m = MEMBERS.c
        newest = m.last_posted_day if posted else m.last_day
        later, *counts = (
            await session.execute(
                select(
                    func.count(case((newest > last, 1))),
                    *(func.count(case((newest >= first, 1))) for first in firsts),
                ).where(m.community_id == community, newest >= min(firsts))
            )
        ).one()
        if not later:
            return [int(n) for n in counts]
    if channel is None:
        return await _from_blocks(
            session, community, [(first, last) for first in firsts], posted=posted
        )
    t = _rollup(channel)
    scope = _scope(t, community, channel, min(firsts), last)
    if posted:
        scope.append(t.c.messages > 0)
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


async def _from_gaps(
    session: AsyncSession, community: str, firsts: Sequence[int], last: int, *, posted: bool
) -> list[int]:
    """Per day in ``firsts``: the members of the days ``first .. last`` whose previous active
    (or posting) day was before ``first`` (``_gaps``): a few rows a day of the window."""
    g = MEMBER_GAPS.c
    counted = g.posted if posted else g.active
    where = [g.community_id == community, g.day.between(min(firsts), last)]
    if len(set(firsts)) == 1:
        total = await session.scalar(
            select(func.coalesce(func.sum(counted), 0)).where(*where, g.since < firsts[0])
        )
        return [int(total or 0)] * len(firsts)
    sums = (
        await session.execute(
            select(
                *(
                    func.coalesce(
                        func.sum(case((and_(g.day >= first, g.since < first), counted), else_=0)),
                        0,
                    )
                    for first in firsts
                )
            ).where(*where, g.since < max(firsts))
        )
    ).one()
    return [int(n) for n in sums]


async def _active_after(session: AsyncSession, community: str, last: int) -> bool:
    """Whether anyone was active after day ``last``: a past period, which the members' last
    days cannot answer (one row of the day rollup, rather than a pass over the members)."""
    d = DAYS.c
    later = select(d.day).where(d.community_id == community, d.day > last, d.active > 0).limit(1)
    return await session.scalar(later) is not None


def _mask(first: int, last: int, block: int) -> int:
    """The bits of the days ``first`` .. ``last`` that fall in ``block``."""
    start = block * BLOCK_DAYS
    lo, hi = max(first, start), min(last, start + BLOCK_DAYS - 1)
    return 0 if hi < lo else ((1 << (hi - lo + 1)) - 1) << (lo - start)


async def _from_blocks(
    session: AsyncSession, community: str, windows: list[tuple[int, int]], *, posted: bool
) -> list[int]:
    """Per window: distinct members with a bit set in it, in one pass over the blocks the
    windows span (WAU, MAU and the period of a past report alike). Windows inside one block
    are one row a member, counted without grouping; otherwise each member's rows are grouped
    and the member counts once per window."""
    b = MEMBER_BLOCKS.c
    bits = b.posted if posted else b.active
    low = min(first for first, _ in windows) // BLOCK_DAYS
    high = max(last for _, last in windows) // BLOCK_DAYS

    def mask(first: int, last: int) -> ColumnElement[int]:
        if low == high:
            return literal(_mask(first, last, low), BigInteger)
        return case(
            *(
                (b.block == k, literal(_mask(first, last, k), BigInteger))
                for k in range(low, high + 1)
            ),
            else_=literal(0, BigInteger),
        )

    hits = [bits.op("&")(mask(first, last)) != 0 for first, last in windows]
    where = [b.community_id == community, b.block.between(low, high)]
    if low == high:
        counts = (
            await session.execute(select(*(func.count(case((h, 1))) for h in hits)).where(*where))
        ).one()
    else:
        members = (
            select(*(func.max(case((h, 1), else_=0)).label(f"w{i}") for i, h in enumerate(hits)))
            .where(*where)
            .group_by(b.user_id)
            .subquery()
        )
        counts = (
            await session.execute(
                select(*(func.coalesce(func.sum(members.c[f"w{i}"]), 0) for i in range(len(hits))))
            )
        ).one()
    return [int(n or 0) for n in counts]


async def retention_matrix(session: AsyncSession, community: str, last: int) -> list[Cohort]:
    """The weekly cohorts a report ending on day ``last`` shows (``_metrics.retention``), in SQL.

    One row a member who joined in the cohorts' weeks, read off the join-day index: their
    active weeks from the join week, a bit each (``weeks``, kept by the writer). A week is only
    shown once it is over (``complete``), so its bits hold nothing after ``last``.
    """
    m = MEMBERS.c
    first_week, _last_week = cohort_weeks(last)
    week = (m.joined_day + 3) // 7  # integer division: week_of (``/`` is NUMERIC on PostgreSQL)
    counts = [
        func.count(case((m.weeks.op("&")(literal(1 << n, BigInteger)) != 0, 1)))
        for n in RETENTION_WEEKS
    ]
    found = await session.execute(
        select(week, func.count(), *counts)
        .where(m.community_id == community, m.joined_day.between(week_start(first_week), last))
        .group_by(week)
    )
    sizes: dict[int, int] = {}
    kept: dict[tuple[int, int], int] = {}
    for w, size, *retained in found:
        sizes[int(w)] = int(size)
        for n, c in zip(RETENTION_WEEKS, retained, strict=True):
            kept[(int(w), n)] = int(c)
    return cohorts_of(sizes, kept, last)


def cohorts_of(sizes: dict[int, int], kept: dict[tuple[int, int], int], last: int) -> list[Cohort]:
    """The cohorts of a report ending on ``last``, from their sizes (per join week) and their
    members active in week N after joining (per (join week, N)); weeks not over show None."""
    cohorts = []
    for w in sorted(sizes):
        done = [complete(w, n, last) for n in RETENTION_WEEKS]
        cohorts.append(
            Cohort(
                w,
                sizes[w],
                tuple(
                    kept.get((w, n), 0) if ok else None
                    for n, ok in zip(RETENTION_WEEKS, done, strict=True)
                ),
                tuple(sizes[w] if ok else 0 for ok in done),
            )
        )
    return cohorts


async def figures(
    session: AsyncSession,
    community: str,
    period: Period,
    channel: str | None = None,
    today: int | None = None,
) -> Figures:
    """Every figure of the report for a period, read from the rollups (and questions).

    WAU and MAU are for the 7 and 30 days ending with the period, or today when it runs into
    the future (None when it starts after today); a channel report leaves out the community's
    members figures (joins, departures, retention).
    """
    t = _rollup(channel)
    end = period.last if today is None else min(period.last, today)
    window = Period(end - 29, end)
    dau = await daily_active(session, community, min(period.first, window.first), end, channel)
    if end == period.last:
        mau, wau, active = await active_since(
            session, community, (window.first, end - 6, period.first), end, channel
        )
    else:  # the period runs past today: WAU and MAU end today
        mau, wau = await active_since(session, community, (window.first, end - 6), end, channel)
        active = await distinct_active(session, community, period.first, period.last, channel)
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
    (communicators,) = await active_since(
        session, community, (period.first,), period.last, channel, posted=True
    )
    joins = departures = never = 0
    cohorts: list[Cohort] = []
    if channel is None:
        joins, departures, never = await arrivals(session, community, period)
        cohorts = await retention_matrix(session, community, end)
    e = EDGES.c
    where_e = [e.community_id == community, e.day.between(period.first, period.last)]
    if channel is not None:
        where_e.append(e.channel_id == channel)
    pairs = (await session.execute(select(e.from_user, e.to_user).where(*where_e).distinct())).all()
    graph = Graph.of((a, b) for a, b in pairs)
    future = end < period.first or (today is not None and period.first > today)
    return Figures(
        period=period,
        channel=channel,
        daily_active={d: n for d, n in dau.items() if period.first <= d <= period.last},
        active=active,
        communicators=int(communicators or 0),
        wau=None if future else wau,
        mau=None if future else mau,
        stickiness=None if future else stickiness(dau, window, mau),
        messages=int(sums[0]),
        reactions=int(sums[1]),
        replies=int(sums[2]),
        p2p_ratio=ratio(int(sums[3]), int(sums[3]) + int(sums[4])),
        new_members=joins,
        departures=departures,
        never_posted=never,
        cohorts=cohorts,
        answers=await answers(session, community, period, channel),
        connected=graph.connected(3),
        largest_group=len(graph.largest_group()),
        bridges=graph.bridges(),
        sentiment=mood,
        daily_messages=daily_messages,
    )


async def arrivals(session: AsyncSession, community: str, period: Period) -> tuple[int, int, int]:
    """Members who joined in a period, who left in it (their last leaving), and joiners who
    have never posted."""
    m = MEMBERS.c
    joined = m.joined_day.between(period.first, period.last)
    left = m.left_day.between(period.first, period.last)
    joins, never = (
        await session.execute(
            select(func.count(), func.count(case((m.posted_day.is_(None), 1)))).where(
                m.community_id == community, joined
            )
        )
    ).one()
    departures = await session.scalar(select(func.count()).where(m.community_id == community, left))
    return int(joins or 0), int(departures or 0), int(never or 0)


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
