"""A unit of work that only reads does not queue for SQLite's write lock (a Slack event-id
lookup in a burst, an outbox status read): it answers while another connection writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from bot.db.engine import Database


async def test_a_reader_answers_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "steward.db"
    db = Database(f"sqlite:///{path}")
    try:
        async with db.uow() as uow:
            await uow.session.execute(text("CREATE TABLE seen (key TEXT PRIMARY KEY)"))
            await uow.session.execute(text("INSERT INTO seen VALUES ('slack:Ev1')"))
            await uow.commit()
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another writer holds the lock (30 s busy timeout)
        try:

            async def look() -> object:
                async with db.reads() as uow:
                    return await uow.session.scalar(text("SELECT key FROM seen"))

            # Well inside the 30 s a writer would wait before "database is locked".
            assert await asyncio.wait_for(look(), 20) == "slack:Ev1"
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    finally:
        await db.dispose()
