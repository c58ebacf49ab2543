"""The one "insert, and ignore the conflict" helper, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(
    session: AsyncSession, table: Any, values: dict[str, Any] | list[dict[str, Any]]
) -> bool:
    """Insert one row (or several, in one statement) unless it conflicts with a unique key;
    True when one was inserted.

    Safe when several handlers (or processes) race to insert the same row.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(table).values(values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))
