"""Async engines for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_

from bot.db.uow import UnitOfWork

# aiosqlite logs every statement with its parameters at DEBUG, and parameters include secrets
# (webhook secrets, tokens): STEWARD_LOG_LEVEL=DEBUG must not write them to the log.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

SQLITE_BUSY_TIMEOUT_MS = 30_000
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
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WriterTurns:
    """The process's transactions on one SQLite file take turns here, first come first served.

    SQLite lets one writer in at a time, and a connection waiting for the lock polls it,
    sleeping up to 100 ms between looks: in a burst the lock sat free while every waiter slept
    (a 100-join storm spent a third of its time so). Transactions of this process queue here
    instead, and the next one starts the moment the last one ends; SQLite's busy timeout is left
    for other processes on the same file. Waiting longer than that timeout fails like SQLite
    does ("database is locked"), which the dispatcher retries.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _take(self) -> None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def begin(self, connection: Any) -> None:
        """Take SQLite's write lock when a transaction starts, not when it first writes.

        A deferred transaction that reads and then writes cannot wait for a busy writer: SQLite
        fails it at once with "database is locked" (a join storm showed it). Taking the lock up
        front lets transactions queue instead. Every Steward transaction takes it, so handlers
        keep them short (commit before talking to a platform); outside readers in WAL mode are
        never blocked by it.
        """
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # WAL: a reader neither waits nor is waited for
            return
        await_(self._take())
        connection.info["steward_turn"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._end(connection.info)
            raise

    def end(self, connection: Any) -> None:
        """The transaction commits or rolls back: the next one's turn."""
        self._end(connection.info)

    def returned(self, _dbapi_connection: Any, record: Any) -> None:
        """A connection back in the pool never keeps a turn (a transaction ended without a
        commit or rollback event: an invalidated connection)."""
        self._end(record.info)

    def _end(self, info: dict[str, Any]) -> None:
        if info.pop("steward_turn", False) and self._lock is not None and self._lock.locked():
            self._lock.release()


def create_engine(url: str) -> AsyncEngine:
    """An async engine with Steward's connection settings for the URL's database."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        turns = WriterTurns(SQLITE_BUSY_TIMEOUT_MS / 1000)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", turns.begin)
        event.listen(engine.sync_engine, "commit", turns.end)
        event.listen(engine.sync_engine, "rollback", turns.end)
        event.listen(engine.sync_engine, "checkin", turns.returned)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The engine and session factory; hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_engine(self.url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.sessions())

    def reads(self) -> UnitOfWork:
        """A unit of work that only reads. On SQLite it does not take the write lock (every
        other transaction does, see :class:`WriterTurns`), so a lookup in a burst neither waits
        for the writers nor holds them up; writing in it fails. On PostgreSQL it is a plain one."""
        return UnitOfWork(self._readers())

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"
