"""Making sure a community (and a member) has a row before anything refers to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ids import CommunityRef
from bot.db.inserts import insert_ignore
from bot.db.models import Community
from bot.db.uow import UnitOfWork


async def ensure_community(session: AsyncSession, ref: CommunityRef, now: datetime) -> None:
    """Create the community's row on first sight; safe when several handlers race to do it."""
    values = {
        "id": ref.key,
        "platform": ref.platform,
        "external_id": ref.id,
        "first_seen": now,
    }
    await insert_ignore(session, Community, values)


class KnownCommunities:
    """The communities this process has given a row: one set for the process, so neither the
    dispatcher nor a feature's background work registers a community again."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    async def ensure(self, uow: UnitOfWork, ref: CommunityRef, now: datetime) -> None:
        """Give the community its row in this unit of work (a second one would wait on SQLite's
        write lock held by this one); it counts as known once that commits."""
        if ref.key in self._keys:
            return
        await ensure_community(uow.session, ref, now)
        key = ref.key

        async def known() -> None:
            self._keys.add(key)

        uow.after_commit(known)


async def active_communities(session: AsyncSession) -> list[CommunityRef]:
    """Every community Steward still serves."""
    rows = await session.scalars(select(Community).where(Community.left_at.is_(None)))
    return [CommunityRef.from_key(row.id) for row in rows]
