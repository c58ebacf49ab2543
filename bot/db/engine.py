"""Async engines for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL (asyncpg).

No database call waits for ever. SQLite waits at most its busy timeout for another
connection's write lock. On PostgreSQL a connection is given ``PG_CONNECT_TIMEOUT_MS`` to open
and each statement ``PG_COMMAND_TIMEOUT_MS`` to answer; past it the statement fails (its
connection, perhaps gone half-open, is dropped rather than reused) and the database gate
(bot.core.outage) takes over, as for any outage. TCP keepalives notice a pooled connection whose
server vanished without a word while it sat idle; each connection is checked before it is handed
out and replaced after ``PG_RECYCLE_S``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.db.timeouts import (
    PG_RECYCLE_S,
    SQLITE_BUSY_TIMEOUT_MS,
    _ms,
    keep_alive,
    pg_timeouts,
)
from bot.db.uow import UnitOfWork

# aiosqlite logs every statement with its parameters at DEBUG, and parameters include secrets
# (webhook secrets, tokens): STEWARD_LOG_LEVEL=DEBUG must not write them to the log.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

READ_ONLY = "steward_read_only"
"""The execution option of :meth:`Database.reads`' sessions."""


def normalize_url(url: str) -> str:
    """Pick the async driver for plain ``sqlite:///`` and ``postgresql://`` URLs."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Steward emits BEGIN itself (below), so the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _busy_timeout_ms() -> int:
    return _ms("STEWARD_SQLITE_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS)


def _pg_keepalive(dbapi_connection: Any, _record: Any) -> None:
    # asyncpg keeps its transport private; without it the connection just has no keepalives.
    keep_alive(getattr(dbapi_connection.driver_connection, "_transport", None))


def _begin(connection: Any) -> None:
    """Take SQLite's write lock when a transaction starts, not when it first writes.

    A deferred transaction that reads and then writes cannot wait for a busy writer: SQLite fails
    it at once with "database is locked" (a join storm showed it). Taking the lock up front lets
    the busy timeout queue transactions instead. Every Steward transaction takes it, so handlers
    keep them short (commit before talking to a platform); outside readers in WAL mode are never
    blocked by it. A unit of work that only reads (:meth:`Database.reads`) does not take it: in a
    burst its lookups neither wait for the writers nor hold them up.
    """
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


SQLITE_POOL_SIZE = 5
"""Connections a process keeps to a SQLite database file, and the most it opens.

SQLite lets one transaction write at a time (every Steward transaction but a read-only one
takes the write lock as it begins, see ``_begin``), so more connections add no throughput: they
wait on the lock instead of in the pool. Each aiosqlite connection is a thread with its own page
cache (up to 2 MB) and allocator arena, and SQLAlchemy's default overflow of 10 opened them all
whenever the database was away (every waiting transaction held one for the busy timeout), then
closed them once it was back, leaving the C allocator holding what they used: the soak saw RSS
step 8 to 12 MB at the first outage. A fixed pool keeps the threads, caches and open files the
same through outages; a transaction that finds no connection free within the pool's timeout
fails with ``sqlalchemy.exc.TimeoutError``, which ``bot.core.transient`` counts as passing
trouble and the dispatcher retries like any other."""


def create_engine(url: str) -> AsyncEngine:
    """An async engine with Steward's connection settings for the URL's database."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        on_disk = _sqlite_file(url) is not None
        pooled: dict[str, Any] = (
            {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0} if on_disk else {}
        )
        engine = create_async_engine(url, **pooled)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine
    engine = create_async_engine(
        url,
        pool_recycle=PG_RECYCLE_S,
        pool_size=10,
        max_overflow=10,
        # A timeout the URL names itself (``?command_timeout=30``) is the operator's choice.
        connect_args={k: v for k, v in pg_timeouts().items() if k not in make_url(url).query},
    )
    event.listen(engine.sync_engine, "connect", _pg_keepalive)
    event.listen(engine.sync_engine, "checkin", _note_idle)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


PING_AFTER_IDLE = 2.0
"""Seconds a pooled PostgreSQL connection may have been idle and still be used unpinged.

A connection the server closed while it sat in the pool (PostgreSQL restarted, an idle timeout)
is found by a ping and replaced before a handler gets it. SQLAlchemy's ``pool_pre_ping`` pinged
at every checkout: three round trips (begin, ``;``, rollback) before each transaction, about ten
per join in a storm, where connections go back to the pool and out again within milliseconds. A
connection back from a transaction moments ago is as alive as a ping would show."""
_IDLE_SINCE = "steward_idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return  # new, or used moments ago
    try:
        dbapi_connection.ping()
    except Exception as exc:
        # The pool throws this connection away and checks out another (a new one if need be).
        raise DisconnectionError(f"a pooled connection was closed: {exc}") from exc


PROBE_WAIT_MS = 500
"""How long the database gate's probe of a SQLite file waits for the write lock."""


def _sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or database in (None, "", ":memory:"):
        return None
    return None if database.startswith("file:") else database


def _probe_sqlite(path: str, wait_ms: int) -> None:
    connection = sqlite3.connect(path, timeout=wait_ms / 1000, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    finally:
        connection.close()


class Database:
    """The engine and session factory; hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._file = _sqlite_file(self.url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.sessions())

    def reads(self) -> UnitOfWork:
        """A unit of work that only reads. On SQLite it does not take the write lock (every
        other transaction does, see ``_begin``), so a lookup in a burst neither waits for the
        writers nor holds them up; a write in it would not wait for the lock, so it is for
        reading only. On PostgreSQL it is a plain one."""
        return UnitOfWork(self._readers())

    async def probe(self) -> None:
        """Take a writing transaction and give it back at once; raises when the database
        does not answer (``bot.core.outage``'s probe).

        On a SQLite file this is a connection of its own, outside the pool, that waits at most
        ``PROBE_WAIT_MS`` for the write lock: while another program holds the lock, every pooled
        connection may be waiting out its 30 s busy timeout, and a probe queued behind them,
        then waiting out its own, found the database up as the lock went, so a minute's lock
        was never said. Elsewhere it is a pooled unit of work."""
        if self._file is None:
            async with self.uow() as uow:
                await uow.session.execute(text("SELECT 1"))
            return
        await asyncio.to_thread(_probe_sqlite, self._file, min(PROBE_WAIT_MS, _busy_timeout_ms()))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"
