"""A pooled PostgreSQL connection the server closed while it sat idle (a restart, an idle
timeout) is replaced before a handler gets it: the handler runs at once, with no failed try.
Connections are pinged only after sitting idle (``PING_AFTER_IDLE``), not at every checkout.
SQLite's pool stays at its few connections however many writes wait for the lock."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, text

from bot.db import engine
from bot.db.engine import Database


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_connection_closed_while_idle_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PING_AFTER_IDLE", 0.0)  # every pooled connection counts as idle
    db = Database(database_url)
    base, _, name = database_url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres".replace("+asyncpg", ""))
    try:
        async with db.uow() as uow:
            first = await uow.session.scalar(text("SELECT pg_backend_pid()"))
            await uow.commit()
        # The server ends the pooled connection behind Steward's back.
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        for _ in range(200):
            if not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND datname = $2",
                first,
                name,
            ):
                break
        async with db.uow() as uow:
            second = await uow.session.scalar(text("SELECT pg_backend_pid()"))
            await uow.commit()
        assert second != first
    finally:
        await admin.close()
        await db.dispose()


async def test_sqlite_keeps_its_few_connections_through_an_outage_and_stores_every_write(
    tmp_path: Path,
) -> None:
    # Twenty writes arrive while another connection holds SQLite's lock. Each pooled connection
    # is a thread with its own page cache: the pool must not open one per waiting write (it
    # opened 15 and closed 10 again after every outage, and the allocator kept what they used).
    # The writes past the pool wait for a connection and are all stored once the lock is gone.
    path = tmp_path / "steward.db"
    db = Database(f"sqlite:///{path}")
    most = 0

    def checked_out(*_: object) -> None:
        nonlocal most
        most = max(most, db.engine.pool.checkedout())  # type: ignore[attr-defined]

    event.listen(db.engine.sync_engine, "checkout", checked_out)
    try:
        async with db.uow() as uow:
            await uow.session.execute(text("CREATE TABLE seen (key TEXT PRIMARY KEY)"))
            await uow.commit()
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")

        async def write(n: int) -> None:
            async with db.uow() as uow:
                await uow.session.execute(text("INSERT INTO seen VALUES (:k)"), {"k": f"e{n}"})
                await uow.commit()

        writes = asyncio.gather(*(write(n) for n in range(20)))
        for _ in range(100):  # until the pool is busy waiting on the lock
            await asyncio.sleep(0.01)
        lock.execute("ROLLBACK")
        lock.close()
        await asyncio.wait_for(writes, 25)  # within the pool's 30 s wait for a connection
        async with db.reads() as uow:
            stored = await uow.session.scalar(text("SELECT count(*) FROM seen"))
        assert stored == 20
        assert most <= engine.SQLITE_POOL_SIZE
    finally:
        await db.dispose()
