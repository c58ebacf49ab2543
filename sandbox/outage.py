"""The database taken away and brought back, for tests and benchmarks.

PostgreSQL is reached through a loopback proxy (sandbox/tcpproxy.py) that resets every open
connection and refuses each new one; SQLite is locked by another connection (``BEGIN EXCLUSIVE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url

from sandbox.tcpproxy import TcpProxy


class Outage:
    """Takes the database away and brings it back; counts connection attempts meanwhile."""

    def __init__(self, url: str, proxy: TcpProxy | None) -> None:
        self.url = url
        self.proxy = proxy
        self._lock: sqlite3.Connection | None = None
        self.is_away = False

    async def away(self) -> None:
        """PostgreSQL: reset and refuse; SQLite: another connection takes the write lock."""
        self.is_away = True
        if self.proxy is not None:
            self.proxy.away()
            return
        path = make_url(self.url).database
        assert path is not None
        lock = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        await asyncio.to_thread(lock.execute, "BEGIN EXCLUSIVE")
        self._lock = lock

    async def back(self) -> None:
        """The database answers again."""
        self.is_away = False
        if self.proxy is not None:
            self.proxy.back()
            return
        assert self._lock is not None
        self._lock.execute("ROLLBACK")
        self._lock.close()
        self._lock = None

    @property
    def attempts(self) -> int:
        """Connections refused while away (PostgreSQL)."""
        return self.proxy.refused if self.proxy is not None else 0


@contextlib.asynccontextmanager
async def through_outage(database_url: str) -> AsyncIterator[tuple[str, Outage]]:
    """Steward's URL (through the proxy for PostgreSQL) and the switch."""
    if database_url.startswith("sqlite"):
        yield database_url, Outage(database_url, None)
        return
    parsed = make_url(database_url)
    async with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        yield url, Outage(url, proxy)
