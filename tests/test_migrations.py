"""Alembic owns the schema: it builds an empty database, matches the models, and goes both ways."""

from __future__ import annotations

from datetime import UTC, datetime

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


async def test_a_feeds_channel_becomes_its_first_route(empty_database_url: str) -> None:
    """0010: a feed followed before routes existed keeps posting where and as it did."""
    from sqlalchemy import text

    await schema.upgrade(empty_database_url, "0009")
    db = Database(empty_database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO communities (id, platform, external_id, first_seen) "
                    "VALUES ('discord:1', 'discord', '1', :at)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            await conn.execute(
                text(
                    "INSERT INTO announcements_feeds (community_id, url, channel_id, title, "
                    "added_by, added_at, first_fetch, compare, paused, failures, next_poll_at, "
                    "primed) VALUES ('discord:1', 'https://e.org/f', '77', 'Blog', '5', "
                    ":at, 'nothing', '', false, 0, :at, true)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
    finally:
        await db.dispose()
    await schema.upgrade(empty_database_url)
    db = Database(empty_database_url)
    try:
        async with db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT channel_id, style, discussion, filter, mention_role_id, added_by "
                        "FROM announcements_routes"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in rows] == [("77", "text", "none", "", None, "5")]
    await schema.downgrade(empty_database_url, "0009")
