"""A clock's time as ``time.monotonic()`` reads it: a lease's end, read from the database, is
a moment in-process waits compare with."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import Clock, FakeClock, SystemClock


@pytest.mark.parametrize("clock", [SystemClock(), FakeClock()], ids=["system", "fake"])
@pytest.mark.parametrize("offset", [timedelta(seconds=-3), timedelta(0), timedelta(seconds=17)])
def test_a_moment_on_the_clock_is_as_far_from_now_on_the_monotonic_line(
    clock: Clock, offset: timedelta
) -> None:
    before = time.monotonic()
    at = clock.now() + offset
    found = clock.monotonic_of(at)
    after = time.monotonic()
    # The clock's now was read between ``before`` and ``after`` (a system clock moves meanwhile:
    # its now may be later than ``at - offset`` by as much).
    assert before + offset.total_seconds() <= found <= after + offset.total_seconds()


def test_a_fake_clock_moved_on_maps_the_same_moment_nearer() -> None:
    clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    lease_end = clock.now() + timedelta(seconds=15)
    clock.advance(timedelta(seconds=10))
    before = time.monotonic()
    found = clock.monotonic_of(lease_end)
    after = time.monotonic()
    assert before + 5 <= found <= after + 5
