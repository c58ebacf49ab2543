"""Reading and writing announcements' tables inside the handler's unit of work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import CommunityRef
from bot.db.inserts import insert_ignore
from cogs.announcements._identity import item_key
from cogs.announcements._items import Item
from cogs.announcements._models import (
    AnnouncementFeed,
    AnnouncementHook,
    AnnouncementLog,
    AnnouncementReplay,
    AnnouncementRoute,
    AnnouncementSeen,
)


class Repo:
    """Announcements' data for one community."""

    def __init__(self, session: AsyncSession, community: CommunityRef) -> None:
        self.session = session
        self.key = community.key

    async def forget_manager(self, user_id: str) -> None:
        """Feeds a member added no longer name them (the feeds themselves stay)."""
        await self.session.execute(
            update(AnnouncementFeed)
            .where(AnnouncementFeed.community_id == self.key, AnnouncementFeed.added_by == user_id)
            .values(added_by="")
        )

    async def feeds(self) -> list[AnnouncementFeed]:
        """Every feed of the community, oldest first."""
        rows = await self.session.scalars(
            select(AnnouncementFeed)
            .where(AnnouncementFeed.community_id == self.key)
            .order_by(AnnouncementFeed.id)
        )
        return list(rows)

    async def count(self) -> int:
        """How many feeds the community follows."""
        found = await self.session.scalar(
            select(func.count()).where(AnnouncementFeed.community_id == self.key)
        )
        return int(found or 0)

    async def feed(self, feed_id: int) -> AnnouncementFeed | None:
        """One of the community's feeds by its number."""
        row: AnnouncementFeed | None = await self.session.scalar(
            select(AnnouncementFeed).where(
                AnnouncementFeed.community_id == self.key, AnnouncementFeed.id == feed_id
            )
        )
        return row

    async def by_url(self, url: str) -> AnnouncementFeed | None:
        """One of the community's feeds by its address."""
        row: AnnouncementFeed | None = await self.session.scalar(
            select(AnnouncementFeed).where(
                AnnouncementFeed.community_id == self.key, AnnouncementFeed.url == url
            )
        )
        return row

    async def due(self, now: datetime, limit: int, lease: timedelta) -> list[AnnouncementFeed]:
        """Claim the feeds whose next poll has come, soonest first: each one's next poll moves
        ``lease`` ahead (the poll's outcome sets it properly), so once this commits no other
        process (several may share PostgreSQL) polls it in this cycle; one whose poller is killed
        comes back when the lease has passed. Rows another process is claiming are skipped."""
        rows = list(
            await self.session.scalars(
                select(AnnouncementFeed)
                .where(
                    AnnouncementFeed.community_id == self.key,
                    AnnouncementFeed.paused.is_(False),
                    AnnouncementFeed.kind == "feed",
                    AnnouncementFeed.next_poll_at <= now,
                )
                .order_by(AnnouncementFeed.next_poll_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.next_poll_at = now + lease
        return rows

    def add(self, row: AnnouncementFeed) -> None:
        """Store a new feed."""
        self.session.add(row)

    async def remove(self, row: AnnouncementFeed) -> None:
        """Forget a feed, its seen items, its log, its routes and its hooks."""
        tables = (AnnouncementSeen, AnnouncementLog, AnnouncementRoute)
        for table in (*tables, AnnouncementHook, AnnouncementReplay):
            await self.session.execute(delete(table).where(table.feed_id == row.id))
        await self.session.delete(row)

    async def routes(self, feed_id: int | None = None) -> list[AnnouncementRoute]:
        """The community's routes (or one feed's), oldest first."""
        query = (
            select(AnnouncementRoute)
            .join(AnnouncementFeed, AnnouncementFeed.id == AnnouncementRoute.feed_id)
            .where(AnnouncementFeed.community_id == self.key)
            .order_by(AnnouncementRoute.id)
        )
        if feed_id is not None:
            query = query.where(AnnouncementRoute.feed_id == feed_id)
        return list(await self.session.scalars(query))

    async def route(self, route_id: int) -> AnnouncementRoute | None:
        """One of the community's routes by its number."""
        found = [r for r in await self.routes() if r.id == route_id]
        return found[0] if found else None

    async def remove_route(self, row: AnnouncementRoute) -> None:
        """Forget a route and its log rows."""
        await self.session.execute(
            delete(AnnouncementLog).where(AnnouncementLog.route_id == row.id)
        )
        await self.session.delete(row)

    async def seen(self, feed_id: int) -> dict[str, str]:
        """Item key -> fingerprint of everything the feed has shown."""
        rows = await self.session.execute(
            select(AnnouncementSeen.item_key, AnnouncementSeen.fingerprint).where(
                AnnouncementSeen.feed_id == feed_id
            )
        )
        return {key: mark for key, mark in rows.all()}  # noqa: C416 (a Row is not a 2-tuple type)

    async def remember(
        self, feed_id: int, before: Mapping[str, str], after: Mapping[str, str], now: datetime
    ) -> None:
        """Store new keys and changed fingerprints (the verdict's seen map against the old)."""
        for key, mark in after.items():
            if key not in before:
                self.session.add(
                    AnnouncementSeen(feed_id=feed_id, item_key=key, fingerprint=mark, seen_at=now)
                )
            elif before[key] != mark:
                await self.session.execute(
                    update(AnnouncementSeen)
                    .where(AnnouncementSeen.feed_id == feed_id, AnnouncementSeen.item_key == key)
                    .values(fingerprint=mark, seen_at=now)
                )

    def log(
        self,
        feed_id: int,
        items: Sequence[Item],
        outcome: str,
        now: datetime,
        reason: str = "",
        route_id: int | None = None,
    ) -> list[AnnouncementLog]:
        """Add one delivery-log row per item (about one route, or none); returns the rows."""
        rows = [
            AnnouncementLog(
                feed_id=feed_id,
                route_id=route_id,
                item_key=item_key(item),
                title=item.title[:256],
                link=item.link,
                outcome=outcome,
                reason=reason[:200] or None,
                at=now,
            )
            for item in items
        ]
        self.session.add_all(rows)
        return rows

    async def waiting(self, outcomes: Sequence[str], limit: int = 200) -> list[AnnouncementLog]:
        """Log rows of the community's feeds still waiting on their delivery, oldest first."""
        rows = await self.session.scalars(
            select(AnnouncementLog)
            .join(AnnouncementFeed, AnnouncementFeed.id == AnnouncementLog.feed_id)
            .where(AnnouncementFeed.community_id == self.key, AnnouncementLog.outcome.in_(outcomes))
            .order_by(AnnouncementLog.id)
            .limit(limit)
        )
        return list(rows)

    async def log_of(
        self, feed_id: int | None = None, limit: int = 10, route_id: int | None = None
    ) -> list[AnnouncementLog]:
        """The latest delivery-log rows of the community (or of a feed, or a route), newest
        first."""
        query = (
            select(AnnouncementLog)
            .join(AnnouncementFeed, AnnouncementFeed.id == AnnouncementLog.feed_id)
            .where(AnnouncementFeed.community_id == self.key)
        )
        if feed_id is not None:
            query = query.where(AnnouncementLog.feed_id == feed_id)
        if route_id is not None:
            query = query.where(AnnouncementLog.route_id == route_id)
        rows = await self.session.scalars(query.order_by(AnnouncementLog.id.desc()).limit(limit))
        return list(rows)

    async def hooks(self, kind: str = "webhook") -> list[tuple[AnnouncementFeed, AnnouncementHook]]:
        """The community's sources of one kind with their hooks, oldest first."""
        rows = await self.session.execute(
            select(AnnouncementFeed, AnnouncementHook)
            .join(AnnouncementHook, AnnouncementHook.feed_id == AnnouncementFeed.id)
            .where(AnnouncementFeed.community_id == self.key, AnnouncementFeed.kind == kind)
            .order_by(AnnouncementFeed.id)
        )
        return [(feed, hook) for feed, hook in rows.all()]


async def hook_by_token(
    session: AsyncSession, token: str
) -> tuple[AnnouncementFeed, AnnouncementHook] | None:
    """The source a pushed delivery's address names, whichever community it belongs to."""
    row = (
        await session.execute(
            select(AnnouncementFeed, AnnouncementHook)
            .join(AnnouncementHook, AnnouncementHook.feed_id == AnnouncementFeed.id)
            .where(AnnouncementHook.token == token)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def first_delivery(
    session: AsyncSession, feed_id: int, delivery_id: str, now: datetime, horizon: timedelta
) -> bool:
    """Remember a delivery id (ids older than ``horizon`` are forgotten first); False when it
    was accepted before. Safe when the same delivery arrives twice at once."""
    await session.execute(
        delete(AnnouncementReplay).where(
            AnnouncementReplay.feed_id == feed_id, AnnouncementReplay.seen_at < now - horizon
        )
    )
    values = {"feed_id": feed_id, "delivery_id": delivery_id, "seen_at": now}
    return await insert_ignore(session, AnnouncementReplay, values)
