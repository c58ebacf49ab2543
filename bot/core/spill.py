"""Events acked while the database is away, kept in a local journal until it answers.

While the database is away (the dispatcher's gate found it so), an event cannot be stored in
the inbox before its ack, and withholding the ack for minutes would only make Slack give up.
Such an event is appended to this process's journal, a file of JSON lines, and the file is
fsynced before the ack goes out: a kill during the outage loses nothing acked. When the
database answers, the journal's events are moved into the inbox (by event id: twice is
once) and the file is emptied.

Each process writes its own file in one directory (``Config.spill_directory``) and holds an
exclusive lock (``flock``) on it while it lives. A starting process reads every journal it can
lock, i.e. those of stopped processes, into the inbox, and removes them: two live processes
never both read one. A last line cut short by a kill mid-write is skipped, said in one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("steward.inbox")
SUFFIX = ".journal"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Spilled:
    """One event in a journal."""

    key: str
    team_id: str
    body: dict[str, Any]
    received_at: datetime


def _line(event: Spilled) -> bytes:
    record = {
        "key": event.key,
        "team_id": event.team_id,
        "body": event.body,
        "received_at": event.received_at.isoformat(),
    }
    return json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def _read(path: Path, fd: int) -> list[Spilled]:
    """The whole events in an open journal; a line that is not one is skipped (said)."""
    with os.fdopen(os.dup(fd), "rb") as file:
        file.seek(0)
        data = file.read()
    found: list[Spilled] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            found.append(
                Spilled(
                    str(record["key"]),
                    str(record["team_id"]),
                    dict(record["body"]),
                    datetime.fromisoformat(record["received_at"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            log.warning(
                "journal %s: line %d is not a whole event (cut short by a kill?); skipped",
                path.name,
                number,
            )
    return found


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """This process's journal: appended to (and fsynced) before an ack, emptied once its
    events are in the inbox. Its file is made on the first event."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = _UNSAFE.sub("-", name)
        self.path = directory / f"{self.name}{SUFFIX}"
        self._fd: int | None = None
        self._lock = threading.Lock()
        self.pending: list[Spilled] = []
        """The events written and not known to be in the inbox yet, oldest first."""
        self.written = 0
        """Events appended since the process started."""

    def _open(self) -> int:
        if self._fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Made and locked under a name no starting process reads, then renamed: one never
            # finds it unlocked, takes it for a stopped process's and removes it.
            making = self.directory / f".{self.name}.new"
            fd = os.open(making, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.rename(making, self.path)
                _sync_directory(self.directory)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def append(self, event: Spilled) -> None:
        """Write the event and fsync it (blocking: call from a thread)."""
        line = _line(event)
        with self._lock:
            fd = self._open()
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            self.pending.append(event)
            self.written += 1

    def moved(self, count: int) -> None:
        """The first ``count`` pending events are in the inbox: the file is emptied once
        nothing newer waits in it (a newer one keeps the older lines: moved again, still once)."""
        with self._lock:
            del self.pending[:count]
            if not self.pending and self._fd is not None:
                os.ftruncate(self._fd, 0)
                os.fsync(self._fd)

    def close(self) -> None:
        """On shutdown: an empty journal is removed; one with events stays for the next start."""
        with self._lock:
            if self._fd is None:
                return
            if not self.pending:
                with contextlib.suppress(OSError):
                    self.path.unlink()
            os.close(self._fd)
            self._fd = None


class Leftovers:
    """Journals stopped processes left in the directory, each locked once read (so that no
    other process reads it too) until its events are in the inbox."""

    def __init__(self, directory: Path, own: Path) -> None:
        self.directory = directory
        self.own = own
        self._held: dict[Path, int] = {}

    def read(self) -> list[Spilled]:
        """Every event in the journals this process can lock (blocking: call from a thread),
        oldest journal first; journals read before and not released yet are read again."""
        if not self.directory.is_dir():
            return []
        paths = sorted(
            (p for p in self.directory.glob(f"*{SUFFIX}") if p != self.own),
            key=lambda p: (_mtime(p), p.name),
        )
        for path in paths:
            if path in self._held:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue  # removed meanwhile by the process that read it
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # Still the file of that name (not one removed after another process read it).
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    raise OSError("replaced")
            except OSError:
                os.close(fd)  # a live process's, or gone
                continue
            self._held[path] = fd
        found: list[Spilled] = []
        for path, fd in self._held.items():
            found += _read(path, fd)
        return found

    def release(self) -> None:
        """The events read are in the inbox: remove their journals."""
        for path, fd in self._held.items():
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)
        if self._held:
            with contextlib.suppress(OSError):
                _sync_directory(self.directory)
        self._held = {}

    def let_go(self) -> None:
        """On shutdown: journals read and not moved stay for the next start, unlocked."""
        for fd in self._held.values():
            os.close(fd)
        self._held = {}


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
