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
import linecache
import os
import signal
import sys
import tracemalloc

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
