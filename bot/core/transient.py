"""Which failures may pass if the same work is tried again a moment later.

A listener that failed on one of these is retried with backoff (``Dispatcher``); anything else
(a bug, a refusal) fails at once. Of the passing ones, only trouble reaching the database
(:func:`database_trouble`) makes the dispatcher ask whether the database is away
(``bot.core.outage``) before trying again: a platform's 5xx or a pool with no connection free
says nothing about that, and under a full pool the gate's own probe would wait in vain too.
The tests walk the exception's causes, since SQLAlchemy wraps the driver's error and the
driver wraps the network's.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import aiohttp
from sqlalchemy import exc as sa

from bot.core.errors import Unavailable, new_error_id

_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_PG_TRANSIENT_STATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "58000", "58030"}
"""Serialization failure, deadlock, lock not available, the server going away or not ready,
I/O trouble; classes 08 (connection) and 53 (insufficient resources) are transient too."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same work again later may succeed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def database_trouble(exc: BaseException) -> bool:
    """Whether the passing trouble is the database's (locked, busy, the connection refused or
    lost, the server going away): not a platform's answer, a platform's network, or a pool
    with no connection free (the database answers; Steward is busy)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_itself(current):
            return not _elsewhere(current)
        current = current.__cause__ or current.__context__
    return False


def _elsewhere(exc: BaseException) -> bool:
    """Passing trouble that is not the database's: the platform, its network, the pool."""
    return isinstance(
        exc, Unavailable | sa.TimeoutError | aiohttp.ClientError
    ) or _platform_overloaded(exc)


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, Unavailable | sa.TimeoutError | ConnectionError | TimeoutError):
        return True  # sa.TimeoutError: no pooled connection came free in time
    if isinstance(exc, aiohttp.ClientConnectionError):
        return True  # reset, refused, the server went away mid-request
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc).lower() for text in _SQLITE_BUSY)
    if isinstance(exc, sa.OperationalError) and "sqlite" in type(exc.orig).__module__:
        return any(text in str(exc.orig).lower() for text in _SQLITE_BUSY)
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(state, str) and len(state) == 5:
        return state in _PG_TRANSIENT_STATES or state[:2] in ("08", "53")
    return _platform_overloaded(exc)


def _platform_overloaded(exc: BaseException) -> bool:
    """A platform's 5xx or 429 (discord.py's ``HTTPException.status``, slack_sdk's
    ``SlackApiError.response.status_code``), without importing either library here."""
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return isinstance(status, int) and (status >= 500 or status == 429)


def describe(exc: BaseException) -> str:
    """A short plain reason: the deepest cause's kind and first line (a timeout's, not the
    cancellation a timeout raises its error from)."""
    deepest = exc
    while deepest.__cause__ is not None and not isinstance(
        deepest.__cause__, asyncio.CancelledError
    ):
        deepest = deepest.__cause__
    message = str(deepest).strip().splitlines()[0] if str(deepest).strip() else ""
    if not message and isinstance(deepest, TimeoutError):
        message = "no answer in time"
    return f"{type(deepest).__name__}: {message}"[:200] if message else type(deepest).__name__


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> str:
    """Log an unexpected failure with a fresh error id (the one place ids are minted); the id
    is what the person sees, so a manager can find the details in the log."""
    error_id = new_error_id()
    if database_trouble(exc):
        # Ordinary trouble, not a bug: one line, no traceback (the outage is said once).
        log.warning("%s failed [error %s]: %s", what, error_id, describe(exc))
    else:
        log.error("%s failed [error %s]", what, error_id, exc_info=exc)
    return error_id
