"""Alembic owns the schema: it builds an empty database, matches the models, and goes both ways."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.db import schema
from bot.db.engine import Database

SHARED_TABLES = {"communities", "known_members", "community_settings", "timers", "outbox"}


async def _tables(url: str) -> set[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await db.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_from_empty_matches_the_models(empty_database_url: str) -> None:
    assert await _tables(empty_database_url) == set()
    await schema.upgrade(empty_database_url)
    assert await _tables(empty_database_url) >= SHARED_TABLES
    await schema.check(empty_database_url)  # raises when models and migrations disagree


async def test_downgrade_then_upgrade_again(empty_database_url: str) -> None:
    await schema.upgrade(empty_database_url)
    await schema.downgrade(empty_database_url, "base")
    assert await _tables(empty_database_url) == set()
    await schema.upgrade(empty_database_url)
    await schema.check(empty_database_url)
    assert await _tables(empty_database_url) >= SHARED_TABLES


async def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: object) -> None:
    from pathlib import Path

    from sqlalchemy import text

    assert isinstance(tmp_path, Path)
    db = Database(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with db.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
    finally:
        await db.dispose()
    assert (journal, fks, busy) == ("wal", 1, 30_000)
