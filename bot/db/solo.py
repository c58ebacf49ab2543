"""One Steward process per SQLite file: a second ``steward run`` on the same file is refused.

SQLite lets one connection write at a time and Steward's in-process caches assume nobody else
writes; several processes are for PostgreSQL (README, "Outgrowing one process"). The guard is an
exclusive lock on a file beside the database, held while ``steward run`` runs: the system drops
it when the process ends, however it ends (a SIGKILL included), so a restart is never refused.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.db.engine import normalize_url
from bot.db.problems import DatabaseProblem

SUFFIX = "-steward.lock"


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite file database, or None (PostgreSQL, in-memory SQLite)."""
    parsed = make_url(normalize_url(url))
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(f"{parsed.database}{SUFFIX}")


@contextlib.contextmanager
def one_process(url: str) -> Iterator[None]:
    """Hold the SQLite file's lock while the block runs; refuse when another process has it."""
    path = lock_path(url)
    if path is None:
        yield
        return
    with path.open("a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            database = path.name.removesuffix(SUFFIX)
            raise DatabaseProblem(
                f"another Steward process is running on the SQLite file {database}."
                " SQLite serves one Steward process; to run several, give them one PostgreSQL"
                " database (README: Outgrowing one process)."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
