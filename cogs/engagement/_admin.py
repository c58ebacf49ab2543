"""Privacy and upkeep beside the reports: opt-out and opt-in, the CSV export, expiry, cursors."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import bindparam, delete, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.inserts import insert_ignore
from cogs.engagement._gaps import bits_days, gaps_of
from cogs.engagement._metrics import date_of
from cogs.engagement._models import (
    CHANNEL_DAYS,
    CHANNELS,
    DAYS,
    EDGES,
    EVENTS,
    MEMBER_BLOCKS,
    MEMBER_DAYS,
    MEMBER_GAPS,
    MEMBERS,
    OPTOUTS,
    QUESTIONS,
)

CD = CHANNEL_DAYS


async def forget(session: AsyncSession, community: str, user: str, now: datetime) -> None:
    """Opt a member out: record it and delete everything stored about them."""
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
    await _forget_gaps(session, community, user)
    for table in (EVENTS, MEMBER_DAYS, CHANNEL_DAYS, MEMBERS, MEMBER_BLOCKS):
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
    await insert_ignore(session, OPTOUTS, {"community_id": community, "user_id": user, "at": now})


async def _forget_gaps(session: AsyncSession, community: str, user: str) -> None:
    """Take a member's active and posting days out of ``engagement_member_gaps``."""
    b = MEMBER_BLOCKS.c
    rows = (
        await session.execute(
            select(b.block, b.active, b.posted).where(
                b.community_id == community, b.user_id == user
            )
        )
    ).all()
    taken: dict[tuple[int, int], list[int]] = {}
    for col in (0, 1):
        days = bits_days((int(k), int(a if col == 0 else p)) for k, a, p in rows)
        for day, start in gaps_of(days):
            taken.setdefault((day, start), [0, 0])[col] += 1
    if not taken:
        return
    g = MEMBER_GAPS.c
    await session.execute(
        update(MEMBER_GAPS)
        .where(
            g.community_id == bindparam("c_"),
            g.day == bindparam("d_"),
            g.since == bindparam("s_"),
        )
        .values(active=g.active - bindparam("a_"), posted=g.posted - bindparam("p_")),
        [{"c_": community, "d_": d, "s_": s, "a_": a, "p_": p} for (d, s), (a, p) in taken.items()],
    )


async def opt_in(session: AsyncSession, community: str, user: str) -> None:
    """Track a member again from now on."""
    o = OPTOUTS.c
    await session.execute(delete(OPTOUTS).where(o.community_id == community, o.user_id == user))


async def opted_out(session: AsyncSession) -> list[tuple[str, str]]:
    """Every (community, member) who opted out."""
    o = OPTOUTS.c
    return [(c, u) for c, u in await session.execute(select(o.community_id, o.user_id))]


async def export_csv(session: AsyncSession, community: str, names: dict[str, str]) -> bytes:
    """Per day and channel (by name; ``names``: id -> name): members who posted or reacted,
    messages, reactions, replies, questions asked and answered since, and the mean sentiment.
    Aggregates only: nobody is named."""
    t, q = CD.c, QUESTIONS.c
    answered = {
        (int(day), str(channel)): (int(n), int(a or 0))
        for day, channel, n, a in await session.execute(
            select(q.day, q.channel_id, func.count(), func.count(q.answered_at))
            .where(q.community_id == community)
            .group_by(q.day, q.channel_id)
        )
    }
    rows = await session.execute(
        select(
            t.day,
            t.channel_id,
            func.count(distinct(t.user_id)),
            func.sum(t.messages),
            func.sum(t.reactions),
            func.sum(t.replies),
            func.sum(t.sentiment_sum),
            func.sum(t.sentiment_n),
        )
        .where(t.community_id == community)
        .group_by(t.day, t.channel_id)
        .order_by(t.day, t.channel_id)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for day, channel, active, messages, reactions, replies, total, n in rows:
        asked, done = answered.get((int(day), str(channel)), (0, 0))
        writer.writerow(
            [
                date_of(int(day)).isoformat(),
                channel_cell(channel, names),
                active,
                messages,
                reactions,
                replies,
                asked,
                done,
                f"{float(total) / int(n):.3f}" if n else "",
            ]
        )
    return out.getvalue().encode()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list)."""


def channel_cell(channel: str, names: dict[str, str]) -> str:
    """A channel as the export names it: ``#name``, or its id when the name is unknown; an id
    that could start a formula is quoted, so a spreadsheet shows it as text."""
    cell = f"#{names[channel]}" if channel in names else channel
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


EXPORT_COLUMNS = (
    "date",
    "channel",
    "active_members",
    "messages",
    "reactions",
    "replies",
    "questions",
    "questions_answered",
    "mean_sentiment",
)


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
