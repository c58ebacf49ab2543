"""Hearing PostgreSQL notifications (LISTEN/NOTIFY) on a connection of their own.

Several Steward processes may share one PostgreSQL database. What one of them changes and the
others keep in memory (settings, for now) is announced with ``pg_notify`` in the changing
transaction, so the others hear it the moment it commits. The listening connection is
dedicated (a pooled one would be handed to other work); when it drops it is opened again, and
``on_connect`` runs each time it is (re)opened, since whatever was announced meanwhile was
missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from bot.db.timeouts import keep_alive, pg_timeouts

log = logging.getLogger("steward.db.listen")
PING_EVERY = 30.0
"""Seconds between checks that the connection still answers (a silent network drop)."""
FIRST_RETRY, LAST_RETRY = 0.5, 30.0
SAY_AGAIN = 60.0
"""Seconds between two log lines saying listening is still not possible."""


def asyncpg_dsn(url: str) -> str:
    """The plain ``postgresql://`` address asyncpg connects to, from a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class Listener:
    """Listens on one channel; calls ``on_message`` with each payload, in the event loop."""

    def __init__(
        self,
        url: str,
        channel: str,
        on_message: Callable[[str], None],
        on_connect: Callable[[], None] = lambda: None,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self.channel = channel
        self.on_message = on_message
        self.on_connect = on_connect
        self.heard = 0
        """Notifications heard so far."""
        self.connects = 0
        """Times the connection was opened (the first time, then after each drop)."""
        self.pid: int | None = None
        """The listening connection's server process, while it is open."""
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect and listen in the background (reconnecting for as long as it runs)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"steward-listen-{self.channel}")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait(self, *, heard: int = 0, connects: int = 0) -> None:
        """Return once at least ``heard`` notifications were heard and the connection was
        opened at least ``connects`` times (tests wait on this, not on the clock)."""
        while self.heard < heard or self.connects < connects:
            self._changed.clear()
            await self._changed.wait()

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.on_message(payload)
        except Exception:
            log.exception("a notification on %s could not be handled", self.channel)
        self.heard += 1
        self._changed.set()

    async def _run(self) -> None:
        delay = FIRST_RETRY
        said: float | None = None  # when the log last said listening had stopped
        while True:
            try:
                # Bounded: a server that stopped answering fails the connect (and any
                # statement), and the loop tries again.
                conn = await asyncpg.connect(self._dsn, **pg_timeouts())
                keep_alive(getattr(conn, "_transport", None))
            except Exception as exc:
                # Said once, then at most once a minute: the database being away is already
                # said by the database gate, and settings are re-read every 5 s meanwhile.
                now = asyncio.get_running_loop().time()
                if said is None or now - said >= SAY_AGAIN:
                    said = now
                    log.warning(
                        "can't listen for changes from other processes (%s); settings are "
                        "re-read every 5 s until it can",
                        type(exc).__name__,
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAST_RETRY)
                continue
            delay = FIRST_RETRY
            try:
                if said is not None:
                    log.info("listening for changes from other processes again")
                    said = None
                await self._listen(conn)
            except Exception as exc:
                said = asyncio.get_running_loop().time()
                log.warning(
                    "the connection listening for changes from other processes dropped (%s); "
                    "reconnecting",
                    type(exc).__name__,
                )
            finally:
                self.pid = None
                if not conn.is_closed():
                    conn.terminate()

    async def _listen(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.channel, self._heard)
        self.pid = conn.get_server_pid()
        self.on_connect()
        self.connects += 1
        self._changed.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_EVERY)
            if not lost.is_set():
                await conn.fetchval("SELECT 1", timeout=PING_EVERY)
