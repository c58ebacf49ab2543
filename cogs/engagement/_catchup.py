"""Catch-up: what was posted while Steward was away, read from each channel's history."""

from __future__ import annotations

from datetime import timedelta

from bot.core import ChannelRef, Context
from cogs.engagement import _admin
from cogs.engagement._ingest import Ingest
from cogs.engagement._keys import position_at, time_of
from cogs.engagement.settings import EngagementSettings

HISTORY_PAGE = 200
CATCH_UP_WINDOW = timedelta(days=7)
"""How far back catch-up reads a channel with nothing stored yet, and how far before a Slack
channel's last stored message it looks again for replies in older threads (at start/reconnect)."""
CATCH_UP_PAGES = 10
"""At most this many pages (of HISTORY_PAGE messages) per channel and pass; the next pass goes on
from the last stored message."""


async def flushed(ctx: Context[EngagementSettings], ingest: Ingest) -> None:
    """Write what is buffered, after ending the handler's transaction.

    The writer uses a connection of its own; on SQLite a transaction the handler began (even by
    reading its settings) holds the write lock it would wait for.
    """
    await ctx.commit()
    await ingest.flush()


class CatchUp:
    """One catch-up pass at a time per community."""

    def __init__(self) -> None:
        self._catching: set[str] = set()

    async def run(self, ctx: Context[EngagementSettings], ingest: Ingest, *, threads: bool) -> None:
        """Read each channel's history after its last stored message and store what is missing.

        A channel with nothing stored yet is read from ``CATCH_UP_WINDOW`` ago, on both
        platforms (an empty Slack channel answers an empty history page). With ``threads`` (at
        start and reconnect), channels are read again from ``CATCH_UP_WINDOW`` before their
        last stored message, so replies posted meanwhile in older Slack threads and reactions
        added to older messages are found too. Replays are harmless: every event has an
        idempotency key.
        """
        key = ctx.community.key
        if key in self._catching:
            return
        self._catching.add(key)
        try:
            platform = ctx.community.platform
            window = position_at(platform, ctx.clock.now() - CATCH_UP_WINDOW)
            # The handler's unit of work must not hold a transaction (on SQLite, the write
            # lock: reading the settings may have begun one) while the flushes below write.
            await ctx.commit()
            async with ingest.db.uow() as uow:
                stored = await _admin.cursors(uow.session, key)
            for channel in await ctx.port.channels(ctx.community):
                cursor = stored.get(channel.id)
                if cursor is None:
                    starts = [window]
                elif threads:
                    # What follows the cursor first, then the week before it again: replies in
                    # older Slack threads, and reactions added meanwhile to older messages
                    # (both platforms list a message's reactions with it).
                    back = time_of(platform, cursor) - CATCH_UP_WINDOW
                    starts = [cursor, position_at(platform, back)]
                else:
                    starts = [cursor]
                for after in starts:
                    await _read(ctx, ingest, channel, after)
        finally:
            self._catching.discard(key)


async def _read(
    ctx: Context[EngagementSettings], ingest: Ingest, channel: ChannelRef, after: str
) -> None:
    """Up to CATCH_UP_PAGES pages of a channel's history after a message, stored.

    One request to the port for the whole pass: it pages itself (Discord oldest first, Slack
    from the newest back to ``after``). Asking page by page would stop early when a page held
    joins or other skipped messages, and on Slack read the backlog again for every page.
    """
    found = await ctx.port.history(channel, after, HISTORY_PAGE * CATCH_UP_PAGES)
    for event in found:
        ingest.offer(event, at=event.at)
    await ingest.flush()
