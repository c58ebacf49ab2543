"""Making sure a community (and a member) has a row before anything refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ids import CommunityRef
from bot.db.models import Community


async def ensure_community(
    session: AsyncSession, ref: CommunityRef, now: datetime, name: str | None = None
) -> Community:
    """Return the community's row, creating it on first sight."""
    row = await session.get(Community, ref.key)
    if row is None:
        row = Community(
            id=ref.key, platform=ref.platform, external_id=ref.id, name=name, first_seen=now
        )
        session.add(row)
        await session.flush()
    elif name and row.name != name:
        row.name = name
    return row


async def active_communities(session: AsyncSession) -> list[CommunityRef]:
    """Every community Steward still serves."""
    rows = await session.scalars(select(Community).where(Community.left_at.is_(None)))
    return [CommunityRef.from_key(row.id) for row in rows]
