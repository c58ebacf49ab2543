"""Platform delivery ids already handled, kept in the database until they expire.

Slack retries an event it thinks went unanswered, and redelivers over Socket Mode after a
reconnect; each delivery carries the same ``event_id``. An id in memory only was forgotten by a
restart, so a redelivery after a crash ran its listeners a second time. Here an id is noted
once its event has been handled (listeners done, or their failure kept), written in small
batches, and looked up when a delivery is not known in memory. An id is kept a day (Slack's
retries end within the hour); expired rows are deleted with new ones, every ten minutes at most.
A lookup only reads (``Database.reads``), so in a burst it does not queue for SQLite's writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.core.activity import Activity
from bot.core.clock import Clock
from bot.core.transient import database_trouble, describe
from bot.db.inserts import insert_ignore
from bot.db.models import HandledEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.handled")
KEEP_FOR = timedelta(days=1)
MEMORY = 10_000
RETRY_FIRST = 1.0
RETRY_MOST = 30.0
"""Seconds before writing handled ids again after a failure: doubling from 1 up to 30."""
SWEEP_EVERY = timedelta(minutes=10)
"""Expired ids are deleted with the first batch written after this long (not with every one)."""


class HandledIds:
    """Which delivery ids were handled: memory first, then the database."""

    def __init__(
        self,
        sessions: Callable[[], UnitOfWork],
        clock: Clock,
        activity: Activity,
        reads: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions
        """Lookups only read: on SQLite they need not wait for the write lock."""
        self.clock = clock
        self._swept: datetime | None = None
        self.activity = activity
        self._recent: dict[str, None] = {}
        self._unwritten: set[str] = set()
        self._writing: asyncio.Task[None] | None = None
        self._unasked = 0
        """Lookups failed in a row (the database away)."""
        self._asking = asyncio.Semaphore(2)
        """Lookups at once: a burst of new ids must not take every pooled connection."""

    async def handled(self, key: str) -> bool:
        """Whether an event with this id was handled (here, or before a restart)."""
        if key in self._recent or key in self._unwritten:
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

    def note(self, key: str) -> None:
        """The event with this id has been handled: write it down soon (with others)."""
        self._remember(key)
        self._unwritten.add(key)
        if self._writing is None or self._writing.done():
            self.activity.enter()
            self._writing = asyncio.create_task(self._write(), name="steward-handled-ids")

    def _remember(self, key: str) -> None:
        self._recent[key] = None
        if len(self._recent) > MEMORY:
            del self._recent[next(iter(self._recent))]

    async def _write(self) -> None:
        pause = RETRY_FIRST
        try:
            while self._unwritten:
                batch, self._unwritten = self._unwritten, set()
                now = self.clock.now()
                try:
                    async with self.sessions() as uow:
                        expires = now + KEEP_FOR
                        rows = [{"key": key, "expires_at": expires} for key in sorted(batch)]
                        await insert_ignore(uow.session, HandledEvent, rows)
                        sweep = self._swept is None or now - self._swept >= SWEEP_EVERY
                        if sweep:
                            await uow.session.execute(
                                delete(HandledEvent).where(HandledEvent.expires_at <= now)
                            )
                        await uow.commit()
                    if sweep:
                        self._swept = now
                    if pause > RETRY_FIRST:
                        log.warning("handled event ids are written again")
                    pause = RETRY_FIRST
                except Exception as exc:
                    # Kept in memory (so this process still skips them) and written next time;
                    # while the database stays away, less and less often, and said once.
                    self._unwritten |= batch
                    if pause == RETRY_FIRST:
                        log.warning(
                            "noting %d handled event ids failed (%s); trying again",
                            len(batch),
                            describe(exc),
                            exc_info=not database_trouble(exc),
                        )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MOST)
        finally:
            self.activity.leave()

    async def close(self) -> None:
        """Write what is still unwritten (on shutdown)."""
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writing, 10)
