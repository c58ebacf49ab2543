"""A pooled PostgreSQL connection the server closed while it sat idle (a restart, an idle
timeout) is replaced before a handler gets it: the handler runs at once, with no failed try.
Connections are pinged only after sitting idle (``PING_AFTER_IDLE``), not at every checkout."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text

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
