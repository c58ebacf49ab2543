"""Polling policy: interval with jitter, backoff, pause after N failures, servers' own hints."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cogs.announcements._fetch import FetchError, Problem
from cogs.announcements._httpcache import freshness, retry_after
from cogs.announcements._schedule import SchedulePolicy, after_failure, after_success, first_poll
from cogs.announcements._texts import paused_notice

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
POLICY = SchedulePolicy()


def test_default_is_ten_minutes_give_or_take_the_jitter() -> None:
    rng = random.Random(1)
    waits = {(after_success(NOW, POLICY, rng).next_at - NOW).total_seconds() for _ in range(200)}
    assert min(waits) >= 540 and max(waits) <= 660 and len(waits) > 100


def test_a_requested_interval_cannot_go_below_the_minimum() -> None:
    plan = after_success(
        NOW, SchedulePolicy(jitter=0), random.Random(0), interval=timedelta(seconds=5)
    )
    assert plan.next_at - NOW == timedelta(minutes=2)


def test_failures_back_off_and_the_eleventh_pauses_the_feed() -> None:
    policy = SchedulePolicy(jitter=0)
    rng = random.Random(0)
    failures = 0
    waits = []
    for _ in range(11):
        plan = after_failure(NOW, failures, policy, rng)
        waits.append(plan.next_at - NOW)
        failures = plan.failures
        if plan.disable:
            break
    assert failures == 11 and plan.disable
    assert waits[:3] == [timedelta(minutes=10), timedelta(minutes=10), timedelta(minutes=20)]
    assert waits == sorted(waits) and waits[-1] == timedelta(hours=6)


def test_retry_after_and_cache_control_are_honoured_within_limits() -> None:
    rng = random.Random(0)
    busy = after_failure(NOW, 0, SchedulePolicy(jitter=0), rng, retry_after=3600)
    assert busy.next_at - NOW == timedelta(hours=1)
    fresh = after_success(NOW, SchedulePolicy(jitter=0), rng, fresh_for=1800)
    assert fresh.next_at - NOW == timedelta(minutes=30)
    capped = after_success(NOW, SchedulePolicy(jitter=0), rng, fresh_for=86400)
    assert capped.next_at - NOW == timedelta(hours=1)
    assert freshness({"Cache-Control": "public, max-age=900"}) == 900
    assert freshness({"Cache-Control": "no-cache, max-age=900"}) is None
    assert retry_after({"Retry-After": "120"}) == 120
    assert retry_after({"Retry-After": "Sun, 06 Dec 2026 13:00:00 GMT"}, NOW) == 3600
    assert retry_after({"Retry-After": "soon"}) is None


def test_first_polls_spread_across_the_interval() -> None:
    slots = {first_poll(NOW, f"https://e.org/{n}.xml", timedelta(minutes=10)) for n in range(100)}
    assert len(slots) > 90 and all(NOW <= s < NOW + timedelta(minutes=10) for s in slots)


def test_the_pause_notice_says_why_and_how_to_resume() -> None:
    notice = paused_notice("https://e.org/feed", 11, FetchError(Problem.HTTP, status=404))
    assert "failed 11 times" in notice and "HTTP 404" in notice
    assert "/announcements resume https://e.org/feed" in notice


@given(
    failures=st.integers(0, 100),
    retry=st.one_of(st.none(), st.floats(0, 1e9)),
    seed=st.integers(0, 2**32),
)
def test_the_next_poll_is_always_later_and_never_absurd(
    failures: int, retry: float | None, seed: int
) -> None:
    plan = after_failure(NOW, failures, POLICY, random.Random(seed), retry_after=retry)
    assert NOW + timedelta(minutes=2) <= plan.next_at <= NOW + timedelta(days=7, hours=7)
    assert plan.disable == (failures + 1 >= POLICY.disable_after)
