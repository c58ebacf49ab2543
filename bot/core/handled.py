"""Platform delivery ids already handled, looked up in the database until they expire.

Slack retries an event it thinks went unanswered, and redelivers over Socket Mode after a
reconnect; each delivery carries the same ``event_id``. An id in memory only was forgotten by a
restart, so a redelivery after a crash ran its listeners a second time. The inbox
(``bot.core.inbox``) writes an event's id to ``handled_events`` when it clears the event's row,
and deletes expired ids (kept a day: Slack's retries end within the hour); here a delivery not
known in memory is looked up. A lookup only reads (``Database.reads``), so in a burst it does
not queue for SQLite's writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot.core.clock import Clock
from bot.core.transient import database_trouble, describe
from bot.db.models import HandledEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.handled")
KEEP_FOR = timedelta(days=1)
MEMORY = 10_000


class HandledIds:
    """Which delivery ids were handled: memory first, then the database."""

    def __init__(self, reads: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.reads = reads
        """Lookups only read: on SQLite they need not wait for the write lock."""
        self.clock = clock
        self._recent: dict[str, None] = {}
        self._unasked = 0
        """Lookups failed in a row (the database away)."""
        self._asking = asyncio.Semaphore(2)
        """Lookups at once: a burst of new ids must not take every pooled connection."""

    async def handled(self, key: str) -> bool:
        """Whether an event with this id was handled (here, or before a restart)."""
        if key in self._recent:
            return True
        now = self.clock.now()
        try:
            async with self._asking, self.reads() as uow:
                found = await uow.session.scalar(
                    select(HandledEvent.key).where(
                        HandledEvent.key == key, HandledEvent.expires_at > now
                    )
                )
        except Exception as exc:
            # Not known counts as not handled: at worst a redelivery runs again (features do
            # their work once); an event is never dropped because the database was busy. Said
            # once while the database stays away, not once per event.
            self._unasked += 1
            if self._unasked == 1:
                log.warning(
                    "could not ask whether %s was handled (%s); handling it (and the next "
                    "ones, until the database answers)",
                    key,
                    describe(exc),
                    exc_info=not database_trouble(exc),  # a bug's traceback; not an outage's
                )
            return False
        if self._unasked:
            log.warning("event ids can be looked up again (%d were not)", self._unasked)
            self._unasked = 0
        if found is not None:
            self._remember(key)
        return found is not None

    def _remember(self, key: str) -> None:
        self._recent[key] = None
        if len(self._recent) > MEMORY:
            del self._recent[next(iter(self._recent))]
