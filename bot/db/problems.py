"""What is wrong with a database URL or connection, in an operator's words (never a traceback)."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.config import ConfigError, safe_url

SUPPORTED = "a SQLite file (sqlite:///steward.db) or PostgreSQL (postgresql://user@host/db)"
# What a failed connection raises: the network, asyncpg, SQLite (wrapped by SQLAlchemy).
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class DatabaseProblem(ConfigError):
    """The database URL is wrong or the database can't be reached; the text says what to do."""


def url_problem(url: str) -> str | None:
    """Why this URL cannot work before anything connects, or None."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"STEWARD_DATABASE_URL is not a database URL; use {SUPPORTED}."
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        return (
            f"STEWARD_DATABASE_URL uses {backend}, which Steward does not support; use {SUPPORTED}."
        )
    if backend == "sqlite":
        return _sqlite_problem(parsed)
    if not parsed.host and not parsed.query.get("host"):
        return "STEWARD_DATABASE_URL names no PostgreSQL host (postgresql://user@host/db)."
    return None


def _sqlite_problem(parsed: URL) -> str | None:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = Path(database).expanduser().resolve()
    if path.is_dir():
        return f"the SQLite file {path} is a folder: name a file, like {path / 'steward.db'}."
    folder = path.parent
    if not folder.is_dir():
        return (
            f"the folder of the SQLite file, {folder}, does not exist: create it, or point "
            "STEWARD_DATABASE_URL at a file in a folder that exists."
        )
    return None


def connect_problem(exc: BaseException, url: str) -> str:
    """Why connecting failed, in plain words, with what to do."""
    where = safe_url(url)
    try:
        parsed = make_url(url)
        server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
        user, name = parsed.username or "(none)", parsed.database or "(none)"
    except ArgumentError:
        server, user, name = "?", "?", "?"
    causes = list(_causes(exc))

    def found(kind: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
        return any(isinstance(c, kind) for c in causes)

    if found(socket.gaierror):
        return f"cannot find the database host in {where}: check the host name."
    if found(ConnectionRefusedError):
        return f"nothing accepts connections at {server}: is PostgreSQL running there?"
    if found(TimeoutError):
        return f"the database server at {server} did not answer in time: is it reachable?"
    if found((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        return f"PostgreSQL refused user {user}: check the user and password in the URL."
    if found(asyncpg.InvalidCatalogNameError):
        return f"the database {name} does not exist on {server}: create it (createdb {name})."
    if where.startswith("sqlite") and any("locked" in str(c) for c in causes):
        return (
            f"the SQLite database {where} is locked by another connection (still locked after "
            "the busy timeout): is another program writing to it or holding a transaction open?"
        )
    if where.startswith("sqlite"):
        return f"cannot open the SQLite database {where}: check the file and its folder."
    if found((ConnectionError, asyncpg.ConnectionDoesNotExistError)):
        return (
            f"the database server at {server} closed the connection at once: is it restarting, "
            "or is something between Steward and it cutting connections?"
        )
    return f"cannot use the database at {server}: check STEWARD_DATABASE_URL and the server."


def _causes(exc: BaseException) -> list[BaseException]:
    """The error and what it wraps (SQLAlchemy's ``orig``, then each ``__cause__``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        orig = current.orig if isinstance(current, DBAPIError) else None
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return chain
