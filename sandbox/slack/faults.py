"""Fault switches for the Web API: 429 storms, 5xx, forced errors, slow answers."""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(slots=True)
class ApiFault:
    """One queued fault; it applies to the next `remaining` matching calls."""

    kind: str  # ratelimit | status | error | delay | stall | hold
    remaining: int
    method: str | None = None  # None: any method
    retry_after: int = 0
    status: int = 500
    error: str = ""
    seconds: float = 0.0
    then: Callable[[], Awaitable[None]] | None = None
    channel: str | None = None  # None: any channel (or none)


class Faults:
    """Queued Web API faults, consumed in order by matching calls."""

    def __init__(self) -> None:
        self.queue: list[ApiFault] = []

    def rate_limit(
        self, times: int = 1, *, retry_after: int = 0, method: str | None = None
    ) -> None:
        """Answer the next `times` calls with HTTP 429, `Retry-After` and `ratelimited`."""
        self.queue.append(ApiFault("ratelimit", times, method, retry_after=retry_after))

    def server_error(self, times: int = 1, *, status: int = 500, method: str | None = None) -> None:
        """Answer the next `times` calls with an HTTP 5xx."""
        self.queue.append(ApiFault("status", times, method, status=status))

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with `{"ok": false, "error": error}`."""
        self.queue.append(ApiFault("error", times, method, error=error))

    def delay(self, seconds: float, *, times: int = 1, method: str | None = None) -> None:
        """Hold the next `times` answers for `seconds` (to test client timeouts)."""
        self.queue.append(ApiFault("delay", times, method, seconds=seconds))

    def stall_after(
        self, method: str, then: Callable[[], Awaitable[None]], *, channel: str | None = None
    ) -> None:
        """Handle the next call to `method` (to `channel`, if given), then await `then()` before
        answering it (a client that dies meanwhile never learns the outcome)."""
        self.queue.append(ApiFault("stall", 1, method, then=then, channel=channel))

    def stall_before(
        self, method: str, until: Callable[[], Awaitable[None]], *, channel: str | None = None
    ) -> None:
        """Hold the next call to `method` (to `channel`, if given) until `until()` returns, then
        handle it: a request that reaches the platform late, and is applied even if its client
        gave up on it meanwhile."""
        self.queue.append(ApiFault("hold", 1, method, then=until, channel=channel))

    def take(self, method: str, channel: str | None = None) -> ApiFault | None:
        """Consume and return the first fault that matches this call."""
        for fault in self.queue:
            if (
                fault.remaining > 0
                and fault.method in (None, method)
                and fault.channel in (None, channel)
            ):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.queue.remove(fault)
                return fault
        return None


def _speed(speed: float | None) -> float:
    if speed is None:
        raw = os.environ.get("STEWARD_PLATFORM_SPEED", "").strip()
        speed = float(raw) if raw else 1.0
    return speed


class PostLimit:
    """``chat.postMessage``'s limit: one message per second per channel (threads included).

    Slack documents "about one per second, short bursts allowed" without saying how short; the
    fake allows no burst, so a client that paces passes on Slack too. Over it: HTTP 429,
    ``Retry-After`` in whole seconds, ``{"ok": false, "error": "ratelimited"}``. ``speed`` runs
    the second that many times faster (``STEWARD_PLATFORM_SPEED``, as Steward reads it).
    """

    INTERVAL = 1.0

    def __init__(self, speed: float | None = None) -> None:
        self.interval = self.INTERVAL / _speed(speed)
        self._last: dict[str, float] = {}
        self.refused = 0

    def retry_after(self, channel: str) -> int | None:
        """Count a post in ``channel``; None when it may go, else the whole seconds to wait."""
        now = time.monotonic()
        last = self._last.get(channel)
        if last is not None and now - last < self.interval:
            self.refused += 1
            return max(1, math.ceil(last + self.interval - now))
        self._last[channel] = now
        return None


TIER_2 = 20
"""Calls a minute of a Tier 2 method ("20+ per minute") the fake allows, per workspace."""
TIER_3 = 50
"""Calls a minute of a Tier 3 method ("50+ per minute") the fake allows, per workspace."""
TIERED = {
    "conversations.open": TIER_3,
    "conversations.invite": TIER_3,
    "conversations.history": TIER_3,
    "users.list": TIER_2,
}
"""Methods whose tier the fake enforces, with their calls a minute: the ones a join storm's
welcomes use, the outbox's look back before a second try (chat.postMessage has its own,
:class:`PostLimit`), and the listing of the whole workspace on each connection."""


class TierLimit:
    """The Web API's per-method tiers: at most ``TIERED[method]`` calls in any minute per
    workspace (Slack evaluates a tier per app, per workspace, per method).

    Slack says "50+ per minute" and tolerates bursts it does not size; the fake tolerates
    none: a client that stays within the number passes on Slack too. Over it: HTTP 429,
    ``Retry-After`` in whole seconds (at least 1) until the oldest call in the minute leaves it,
    ``{"ok": false, "error": "ratelimited"}``; a refused call does not count. ``speed`` runs
    the minute that many times faster (``STEWARD_PLATFORM_SPEED``, as Steward reads it).
    """

    MINUTE = 60.0

    def __init__(self, speed: float | None = None) -> None:
        self.minute = self.MINUTE / _speed(speed)
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self.refused = 0

    def retry_after(self, method: str, team: str) -> int | None:
        """Count a call; None when it may go, else the whole seconds to wait."""
        most = TIERED.get(method)
        if most is None:
            return None
        now = time.monotonic()
        calls = self._calls.setdefault((method, team), deque())
        while calls and calls[0] <= now - self.minute:
            calls.popleft()
        if len(calls) >= most:
            self.refused += 1
            return max(1, math.ceil(calls[0] + self.minute - now))
        calls.append(now)
        return None
