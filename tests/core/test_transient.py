"""Which failures are worth trying again: the database busy or away, the network, a 5xx."""

from __future__ import annotations

import sqlite3

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import exc as sa

from bot.core.errors import Unavailable, UserError
from bot.core.transient import database_trouble, is_transient


def wrapped(cause: BaseException) -> sa.DBAPIError:
    """What SQLAlchemy raises around a driver's error."""
    try:
        raise sa.OperationalError("SELECT 1", None, cause) from cause  # type: ignore[arg-type]
    except sa.OperationalError as exc:
        return exc


class Answered(Exception):
    """A platform client's error carrying the HTTP status (discord.py's shape)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (wrapped(sqlite3.OperationalError("database is locked")), True),
        (wrapped(sqlite3.OperationalError("no such table: members")), False),
        (wrapped(asyncpg.DeadlockDetectedError("deadlock detected")), True),
        (wrapped(asyncpg.SerializationError("could not serialize access")), True),
        (wrapped(asyncpg.CannotConnectNowError("the database system is starting up")), True),
        (wrapped(asyncpg.TooManyConnectionsError("too many clients")), True),
        (wrapped(asyncpg.UniqueViolationError("duplicate key")), False),
        (sa.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (Answered(503), True),
        (Answered(429), True),
        (Answered(403), False),
        (UserError("That member is gone."), False),
        (KeyError("a bug"), False),
    ],
)
def test_what_is_worth_trying_again(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def unavailable(status: int) -> Unavailable:
    """What the Discord port raises around the client's 5xx."""
    try:
        raise Unavailable(f"Discord answered {status}") from Answered(status)
    except Unavailable as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "database"),
    [
        (wrapped(sqlite3.OperationalError("database is locked")), True),
        (wrapped(asyncpg.CannotConnectNowError("the database system is starting up")), True),
        (wrapped(asyncpg.TooManyConnectionsError("too many clients")), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (sa.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), False),
        (aiohttp.ServerDisconnectedError(), False),
        (Answered(503), False),
        (unavailable(502), False),
        (KeyError("a bug"), False),
    ],
)
def test_only_the_databases_own_trouble_asks_whether_it_is_away(
    exc: BaseException, database: bool
) -> None:
    assert database_trouble(exc) is database
