"""STEWARD_TRACEMALLOC's heap dumps show what the process grew, not what the dumps themselves
read (the source lines of the call stacks they write); ``bot.heap.trim`` gives memory the C
allocator kept after a burst back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import tracemalloc
from pathlib import Path

import pytest

from bot import heap
from bot.heap import HeapDumps


def test_a_dump_does_not_show_its_own_source_lines_as_growth(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracemalloc.start(10)
    try:
        dumps = HeapDumps()
        dumps.dump()
        kept = [bytearray(1000) for _ in range(200)]  # a growth the dumps must show
        dumps.dump()  # writes call stacks: reads source files
        dumps.dump()
    finally:
        tracemalloc.stop()
    third = capsys.readouterr().err.split("--- heap dump 3")[1]
    assert "test_heap_dumps.py" in third  # the growth is there
    assert "linecache.py" not in third
    assert len(kept) == 200


def _rss() -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if "VmRSS" in line)


@pytest.mark.skipif(heap._malloc_trim() is None, reason="glibc's malloc_trim only")
def test_memory_freed_in_the_middle_of_the_heap_goes_back_to_the_system() -> None:
    # 16 MB in small blocks, freed but for the last (it keeps the heap's top in use, as a
    # long-lived object allocated after a burst does): glibc keeps the freed pages, RSS stays up.
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    before = _rss()
    blocks = [libc.malloc(4000) for _ in range(4000)]
    for block in blocks:
        ctypes.memset(block, 1, 4000)  # touched: in the RSS
    for block in blocks[:-1]:
        libc.free(block)
    held = _rss()
    assert held - before > 12 * 2**20  # the allocator kept them
    assert heap.trim()
    assert held - _rss() > 12 * 2**20  # given back
    libc.free(blocks[-1])
