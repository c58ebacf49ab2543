"""STEWARD_TRACEMALLOC's heap dumps show what the process grew, not what the dumps themselves
read (the source lines of the call stacks they write)."""

from __future__ import annotations

import tracemalloc

import pytest

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
