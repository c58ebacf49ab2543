"""How long Steward waits on its database, shared by the engine and every connection of its
own (the settings listener, engagement's writer): bounded, so a database gone silent fails a
statement instead of holding it for ever. Below the engine so a feature's own connection may
use it (features don't reach the engine)."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

log = logging.getLogger("steward.db")

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite transaction waits for another connection's write lock before failing
("database is locked"); ``STEWARD_SQLITE_BUSY_TIMEOUT_MS`` changes it (tests run time faster)."""
PG_CONNECT_TIMEOUT_MS = 10_000
"""How long opening a PostgreSQL connection may take (``STEWARD_PG_CONNECT_TIMEOUT_MS``)."""
PG_COMMAND_TIMEOUT_MS = 60_000
"""How long one PostgreSQL statement may wait for its answer (``STEWARD_PG_COMMAND_TIMEOUT_MS``):
a server that stopped answering, or a connection gone half-open, fails the statement instead of
holding its listener or job for good. Steward's statements take milliseconds."""
PG_RECYCLE_S = 1800
"""Seconds after which a pooled PostgreSQL connection is replaced rather than reused."""
KEEPALIVE = {"TCP_KEEPIDLE": 60, "TCP_KEEPINTVL": 10, "TCP_KEEPCNT": 6}
"""TCP keepalives on PostgreSQL connections: an idle connection whose server vanished is found
dead within two minutes (60 s idle, then six probes 10 s apart)."""


def _ms(name: str, default: int) -> int:
    """A positive number of milliseconds from the environment; a value that is not one is
    said once, in a line, and the default used (the database must still be reached)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 86_400_000:
        return int(raw)
    if name not in _SAID:
        _SAID.add(name)
        log.warning(
            "%s=%r is not a number of milliseconds between 1 and 86400000; using %d",
            name,
            raw[:40],
            default,
        )
    return default


_SAID: set[str] = set()


def pg_timeouts() -> dict[str, float]:
    """asyncpg's ``timeout`` (connecting) and ``command_timeout`` (each statement), in seconds."""
    return {
        "timeout": _ms("STEWARD_PG_CONNECT_TIMEOUT_MS", PG_CONNECT_TIMEOUT_MS) / 1000,
        "command_timeout": _ms("STEWARD_PG_COMMAND_TIMEOUT_MS", PG_COMMAND_TIMEOUT_MS) / 1000,
    }


def keep_alive(transport: Any) -> None:
    """Switch TCP keepalives on for a connection's socket (not a Unix socket's)."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in KEEPALIVE.items():
            option = getattr(socket, name, None)  # Linux names; others keep their defaults
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError:  # a socket that is already gone: the first statement will say so
        pass
