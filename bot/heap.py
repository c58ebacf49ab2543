"""Where the memory goes, for an operator (or a soak) chasing growth.

``STEWARD_TRACEMALLOC=N`` starts :mod:`tracemalloc` keeping ``N`` frames of each allocation
(it costs memory and time: for a diagnosis, not for every day). Each ``SIGUSR1`` then writes to
standard error what grew since the first one (the biggest growths by line, then the biggest
few with their call stacks); the first one writes the biggest holders. ``kill -USR1 <pid>``
twice, some minutes apart, shows what a process keeps accumulating.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import linecache
import os
import signal
import sys
import tracemalloc
from collections.abc import Callable

TOP = 25
"""Lines written per heading."""


class HeapDumps:
    """Snapshots on SIGUSR1, each compared with the first."""

    def __init__(self) -> None:
        self.first: tracemalloc.Snapshot | None = None
        self.first_size = 0
        self.dumps = 0

    def dump(self) -> None:
        """Write what grew since the first snapshot (or, the first time, what is held)."""
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, linecache.__file__, all_frames=True),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            )
        )
        self.dumps += 1
        traced = sum(s.size for s in snapshot.statistics("filename"))
        out = [
            f"--- heap dump {self.dumps} (pid {os.getpid()}): Python objects made since tracing "
            f"began hold {traced / 2**20:.1f} MiB; tracing itself {_tracing_mib()} MiB"
        ]
        if self.first is None:
            self.first = snapshot
            self.first_size = traced
            out += [str(s) for s in snapshot.statistics("lineno")[:TOP]]
        else:
            out.append(f"grew {(traced - self.first_size) / 2**20:+.1f} MiB since dump 1")
            grew = snapshot.compare_to(self.first, "lineno")
            out += [str(s) for s in grew[:TOP]]
            for stat in snapshot.compare_to(self.first, "traceback")[:5]:
                out.append(f"+{stat.size_diff / 1024:.0f} KiB in {stat.count_diff:+d} blocks:")
                out += [f"    {line}" for line in stat.traceback.format()]
        out.append("--- end of heap dump")
        sys.stderr.write("\n".join(out) + "\n")
        sys.stderr.flush()
        # Writing the call stacks read the source files into linecache (2 MB on Slack): the next
        # dump would show them as growth of the process.
        linecache.clearcache()


def _tracing_mib() -> str:
    return f"{tracemalloc.get_tracemalloc_memory() / 2**20:.1f}"


def install(loop: asyncio.AbstractEventLoop) -> HeapDumps | None:
    """Start tracing and answer SIGUSR1 when ``STEWARD_TRACEMALLOC`` asks for it."""
    try:
        frames = int(os.environ.get("STEWARD_TRACEMALLOC", "0") or 0)
    except ValueError:
        return None
    if frames <= 0:
        return None
    tracemalloc.start(frames)
    dumps = HeapDumps()
    with contextlib.suppress(NotImplementedError, AttributeError):  # no SIGUSR1 on Windows
        loop.add_signal_handler(signal.SIGUSR1, dumps.dump)
    return dumps


TRIM_EVERY = 60.0
"""Seconds between handing the C allocator's free memory back to the system."""


@functools.cache
def _glibc(name: str) -> Callable[..., int] | None:
    """A function of glibc's allocator (None elsewhere: musl, macOS, Windows), looked up once:
    ``find_library`` runs ``ldconfig`` in a subprocess, not a thing to do on the event loop
    every minute."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        found: Callable[..., int] = getattr(
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name
        )
    except (OSError, AttributeError):
        return None
    return found


def _malloc_trim() -> Callable[..., int] | None:
    """glibc's ``malloc_trim``."""
    return _glibc("malloc_trim")


async def trim_forever(every: float = TRIM_EVERY) -> None:
    """Every ``every`` seconds, give the C allocator's free pages back to the system (glibc's
    ``malloc_trim(0)``; nothing where there is none). Runs until cancelled.

    glibc keeps memory that was freed: at the top of each arena above ``M_TRIM_THRESHOLD``, and
    in the middle of an arena never, however many whole pages lie free there. After a burst (a
    catch-up after an outage, a join storm, a feed poll of 200 feeds) Python's objects and
    SQLite's pages are freed but the process keeps its peak. ``malloc_trim(0)`` walks every arena
    and returns each free page (``madvise(MADV_DONTNEED)``); memory still in use is not touched,
    so a real leak still shows. In the soak, during a database outage, one call gave back 3.5 MB
    of Steward's 159 MB and 1.4 of the writer's 113, in 4 ms of CPU with 20 threads' arenas.
    """
    if _malloc_trim() is None:
        return
    while True:
        await asyncio.sleep(every)
        trim()


ARENAS = 2
"""The most malloc arenas glibc gives the process (``M_ARENA_MAX``); its default is 8 a core."""
_M_ARENA_MAX = -8


def cap_arenas(most: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``most``, unless ``MALLOC_ARENA_MAX`` set it already; call
    it before the process starts threads. False where it cannot.

    glibc gives a thread that meets a busy arena one of its own, up to 8 a core: each of
    SQLite's connection threads, the threads that resolve names and the one that probes the
    database took one, and what each kept after a burst stayed with it (the soak saw the main
    arena and each connection thread's arena grow at every database outage). Python holds the
    GIL while it allocates, so threads rarely contend for an arena and a few serve them all."""
    mallopt = _glibc("mallopt")
    if "MALLOC_ARENA_MAX" in os.environ or mallopt is None:
        return False
    return bool(mallopt(_M_ARENA_MAX, most))


def trim() -> bool:
    """Give the C allocator's free pages back to the system now; False where it cannot."""
    malloc_trim = _malloc_trim()
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True
