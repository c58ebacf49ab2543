"""The weekly digest's moderation line, from the figures moderation publishes (its events only).

Moderation publishes ``ModerationWeek`` every hour; the latest one is kept per community and the
digest shows it when it is fresh (counts only: never who reported, was warned or escalated).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import plural
from bot.core.parsing import format_duration
from cogs.engagement._models import EngagementModeration
from cogs.moderation.events import ModerationWeek

FRESH = timedelta(hours=3)
"""Figures older than this are left out of the digest (moderation was off, or Steward down)."""


async def remember(session: AsyncSession, event: ModerationWeek) -> None:
    """Keep the latest figures of the community (an older event never replaces a newer one)."""
    row = await session.get(EngagementModeration, event.community.key)
    if row is None:
        row = EngagementModeration(community_id=event.community.key, at=event.at)
        session.add(row)
    elif row.at > event.at:
        return
    row.at = event.at
    row.reports, row.actions, row.escalations = event.reports, event.actions, event.escalations
    row.closed, row.escalations_open = event.closed, event.escalations_open
    oldest = event.oldest_escalation
    row.oldest_open_seconds = None if oldest is None else int(oldest.total_seconds())


async def digest_line(session: AsyncSession, community: str, now: datetime) -> str | None:
    """``3 reports, 2 actions, 1 escalation to the team; 4 cases closed; 1 escalation waiting
    for a fix (oldest 2d)`` (None: no fresh figures)."""
    row = await session.get(EngagementModeration, community)
    if row is None or now - row.at > FRESH:
        return None
    line = (
        f"{plural(row.reports, 'report')}, {plural(row.actions, 'action')}, "
        f"{plural(row.escalations, 'escalation')} to the team; "
        f"{plural(row.closed, 'case')} closed"
    )
    if row.escalations_open:
        waited = timedelta(hours=(row.oldest_open_seconds or 0) // 3600)
        age = format_duration(waited) if waited else "under 1h"
        line += f"; {plural(row.escalations_open, 'escalation')} waiting for a fix (oldest {age})"
    return line
