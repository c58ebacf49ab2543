"""The weekly digest's line on introductions: the rounds introductions told it had ended.

Introductions publishes ``RoundClosed`` with a round's final figures; only those numbers are
kept (no member ids). Nothing of introductions is imported but its events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import plural
from cogs.engagement._models import EngagementIntroRound
from cogs.introductions.events import RoundClosed


async def remember(session: AsyncSession, event: RoundClosed) -> None:
    """Keep an ended round's figures (told again: the latest figures win)."""
    row = await session.get(EngagementIntroRound, (event.community.key, event.number))
    if row is None:
        row = EngagementIntroRound(community_id=event.community.key, number=event.number)
        session.add(row)
    row.closed_at, row.people, row.groups, row.met = event.at, event.people, event.groups, event.met


async def digest_line(
    session: AsyncSession, community: str, since: datetime, until: datetime
) -> str | None:
    """``12 people in 6 groups, 67% said they met`` for the rounds that ended in the period
    (None when none did)."""
    rows = list(
        await session.scalars(
            select(EngagementIntroRound).where(
                EngagementIntroRound.community_id == community,
                EngagementIntroRound.closed_at >= since,
                EngagementIntroRound.closed_at < until,
            )
        )
    )
    groups = sum(r.groups for r in rows)
    if not groups:
        return None
    people, met = sum(r.people for r in rows), sum(r.met for r in rows)
    rounds = f"{plural(len(rows), 'round')}: " if len(rows) > 1 else ""
    return (
        f"{rounds}{plural(people, 'person', 'people')} in {plural(groups, 'group')}, "
        f"{met / groups:.0%} said they met"
    )
