"""The "insert, and ignore the conflict" helpers, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

_STATEMENTS: dict[tuple[str, Table], Insert] = {}
"""One "insert, ignore the conflict" statement per dialect and table, built once: the row's
values go with it as parameters. Building ``insert(...).values(row)`` anew for every row cost
three times what executing it does (a join storm inserts two outbox rows per join)."""


async def insert_ignore(
    session: AsyncSession, table: Any, values: dict[str, Any] | list[dict[str, Any]]
) -> bool:
    """Insert one row (or several, in one statement) unless it conflicts with a unique key;
    True when one was inserted.

    Safe when several handlers (or processes) race to insert the same row.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if isinstance(values, list):
        result = await session.execute(insert(table).values(values).on_conflict_do_nothing())
        return bool(getattr(result, "rowcount", 0))
    result = await session.execute(_statement(dialect, table), values)
    return bool(getattr(result, "rowcount", 0))


async def insert_each_ignored(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]]
) -> None:
    """Insert each row unless it conflicts with a unique key: the one statement of
    :func:`insert_ignore`, run for every row in one call (one round trip; a statement of many
    rows is built and compiled anew for each count of rows)."""
    if rows:
        await session.execute(_statement(session.get_bind().dialect.name, table), rows)


def _statement(dialect: str, table: Any) -> Insert:
    """The table's "insert, ignore the conflict" statement for the dialect, built once."""
    plain: Table = getattr(table, "__table__", table)
    statement = _STATEMENTS.get((dialect, plain))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = _STATEMENTS[dialect, plain] = insert(plain).on_conflict_do_nothing()
    return statement


async def insert_new(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], returning: Any
) -> set[Any]:
    """Insert the rows that conflict with no unique key, in one statement; the ``returning``
    column's value of each row inserted (a row left out for its conflict is not among them)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.scalars(
        insert(table).values(rows).on_conflict_do_nothing().returning(returning)
    )
    return set(result)
