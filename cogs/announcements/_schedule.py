"""When to poll a feed next: interval with jitter, backoff on failure, disable after N failures.

Pure: the caller passes the clock's ``now`` and a random source, so tests decide exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FRESHNESS = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """How often feeds are polled and how failure slows them down."""

    interval: timedelta = timedelta(minutes=10)
    minimum: timedelta = timedelta(minutes=2)
    jitter: float = 0.1
    """Each wait is stretched or shrunk by up to this fraction, so feeds drift apart."""
    backoff: timedelta = timedelta(minutes=5)
    """The wait after the first failure; it doubles with each one after."""
    backoff_cap: timedelta = timedelta(hours=6)
    disable_after: int = 11
    """Consecutive failures that pause the feed (MonitoRSS's number)."""

    def clamp(self, requested: timedelta | None) -> timedelta:
        """The interval a manager asked for, raised to the configured minimum."""
        return max(requested or self.interval, self.minimum)


@dataclass(frozen=True, slots=True)
class Plan:
    """The next poll, the failure count to store, and whether the feed is now paused."""

    next_at: datetime
    failures: int
    disable: bool = False


def first_poll(now: datetime, url: str, interval: timedelta) -> datetime:
    """A new feed's first regular poll, at a slot spread by its URL (MonitoRSS's FNV-1a offset)."""
    span = max(int(interval.total_seconds()), 1)
    return now + timedelta(seconds=_fnv1a(url) % span)


def after_success(
    now: datetime,
    policy: SchedulePolicy,
    rng: random.Random,
    *,
    interval: timedelta | None = None,
    fresh_for: float | None = None,
) -> Plan:
    """After a good poll: the interval (or longer, if the server says its answer stays fresh)."""
    wait = policy.clamp(interval)
    if fresh_for:
        wait = max(wait, min(timedelta(seconds=fresh_for), MAX_FRESHNESS))
    return Plan(now + _jittered(wait, policy.jitter, rng), 0)


def after_failure(
    now: datetime,
    failures: int,
    policy: SchedulePolicy,
    rng: random.Random,
    *,
    interval: timedelta | None = None,
    retry_after: float | None = None,
) -> Plan:
    """After a failed poll (``failures`` before this one): back off, or pause the feed."""
    count = failures + 1
    steps = min(count - 1, 30)
    wait = min(policy.backoff * (2**steps), policy.backoff_cap)
    wait = max(wait, policy.clamp(interval))
    wait = _jittered(wait, policy.jitter, rng)
    if retry_after:
        wait = max(wait, timedelta(seconds=min(retry_after, 7 * 86400)))
    return Plan(now + wait, count, disable=count >= policy.disable_after)


def _jittered(wait: timedelta, jitter: float, rng: random.Random) -> timedelta:
    return wait * (1 + rng.uniform(-jitter, jitter))


def _fnv1a(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value
