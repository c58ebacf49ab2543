"""Making sure a community (and a member) has a row before anything refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ids import CommunityRef
from bot.db.models import Community


async def ensure_community(session: AsyncSession, ref: CommunityRef, now: datetime) -> None:
    """Create the community's row on first sight; safe when several handlers race to do it."""
    values = {
        "id": ref.key,
        "platform": ref.platform,
        "external_id": ref.id,
        "first_seen": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(Community).values(values).on_conflict_do_nothing())


async def active_communities(session: AsyncSession) -> list[CommunityRef]:
    """Every community Steward still serves."""
    rows = await session.scalars(select(Community).where(Community.left_at.is_(None)))
    return [CommunityRef.from_key(row.id) for row in rows]
