"""The database going away: listeners wait for it instead of spending their retries.

A listener that fails on passing trouble is retried a few times over about 16 seconds
(``Dispatcher.retry_delays``). When the database itself is away for longer (a restart, a failover,
SQLite locked by another program), every queued event would run out of tries and be kept as
failed, and every worker would hammer the database meanwhile. So before a retry the dispatcher
asks this gate: one probe (a writing transaction, ``Database.probe``) answers for every waiting
listener at once; while it fails, the listeners wait here (their tries not spent), the probe
backs off, and the log says once that the database is away and once that it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.core.transient import database_trouble, describe
from bot.db.engine import Database

log = logging.getLogger("steward.database")
REPORT_EVERY = 60.0
"""Seconds between the log's reminders that the database is still away."""


class DatabaseGate:
    """Tells the dispatcher whether the database is up, and holds listeners while it is not."""

    def __init__(
        self,
        db: Database,
        delays: Callable[[], Sequence[float]],
        on_back: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``delays()``: seconds between probes (the last one repeats); ``on_back`` runs once
        the database answers again (writes what waited in memory)."""
        self.db = db
        self.delays = delays
        self.on_back = on_back
        self.away_since: float | None = None
        """``time.monotonic()`` when the database was found away; None while it is up."""
        self.reason = ""
        self.probes = 0
        """Probes run since the process started (each one a connection attempt at most)."""
        self.outages = 0
        self._probe: asyncio.Task[bool] | None = None

    @property
    def away(self) -> bool:
        """Whether the last probe failed."""
        return self.away_since is not None

    async def wait_until_up(self) -> bool:
        """Return once the database answers; True when it had to wait (it was away)."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._until_up(), name="database-probe")
        return await asyncio.shield(self._probe)

    async def close(self) -> None:
        """Stop probing (on shutdown, the database perhaps still away)."""
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe

    async def _until_up(self) -> bool:
        failed = 0
        reported = 0.0
        while True:
            problem = await self._probe_once()
            if problem is None:
                break
            now = time.monotonic()
            if self.away_since is None:
                self.away_since = reported = now
                self.outages += 1
                log.warning(
                    "the database is unreachable (%s); events wait in the queue until it answers",
                    problem,
                )
            elif now - reported >= REPORT_EVERY:
                reported = now
                log.warning(
                    "the database is still unreachable after %.0f s (%s)",
                    now - self.away_since,
                    problem,
                )
            self.reason = problem
            delays = self.delays()
            await asyncio.sleep(delays[min(failed, len(delays) - 1)])
            failed += 1
        if self.away_since is None:
            return False
        log.warning(
            "the database answers again after %.1f s; the waiting events go on",
            time.monotonic() - self.away_since,
        )
        self.away_since = None
        self.reason = ""
        if self.on_back is not None:
            await self.on_back()
        return True

    async def _probe_once(self) -> str | None:
        """None when the database took a writing transaction, else what went wrong."""
        self.probes += 1
        try:
            await self.db.probe()
        except Exception as exc:
            return describe(exc)
        return None


class Trouble:
    """The log's one line for work that failed because the database is away (the database
    gate says the outage itself, once): at most one a place every ``REPORT_EVERY`` seconds,
    at warning, with the reason and no traceback. Anything else is a bug: its traceback at
    error, every time.

    ``said(log, what, exc)`` is for an ``except`` block: ``what`` names the work ("draining
    the outbox"), the same each time (it is the place the limit counts by)."""

    def __init__(self) -> None:
        self._said: dict[tuple[str, str], float] = {}

    def said(self, logger: logging.Logger, what: str, exc: BaseException) -> None:
        """Log that ``what`` failed with ``exc``, as the class says."""
        if not database_trouble(exc):
            logger.error("%s failed", what, exc_info=exc)
            return
        place, now = (logger.name, what), time.monotonic()
        last = self._said.get(place)
        if last is not None and now - last < REPORT_EVERY:
            logger.debug("%s failed: the database is unreachable (%s)", what, describe(exc))
            return
        if len(self._said) > 1000:  # places are few; never let a bug grow this without end
            self._said.clear()
        self._said[place] = now
        logger.warning(
            "%s failed: the database is unreachable (%s); tried again later", what, describe(exc)
        )


trouble = Trouble()
"""The process's one :class:`Trouble`."""
