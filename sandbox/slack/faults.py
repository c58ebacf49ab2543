"""Fault switches for the Web API: 429 storms, 5xx, forced errors, slow answers."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar


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


class PostLimit:
    """``chat.postMessage``'s limit: one message per second per channel (threads included).

    Slack documents "about one per second, short bursts allowed" without saying how short; the
    fake allows no burst, so a client that paces passes on Slack too. Over it: HTTP 429,
    ``Retry-After`` in whole seconds, ``{"ok": false, "error": "ratelimited"}``. ``speed`` runs
    the second that many times faster (``STEWARD_PLATFORM_SPEED``, as Steward reads it).
    """

    INTERVAL = 1.0

    def __init__(self, speed: float | None = None) -> None:
        if speed is None:
            raw = os.environ.get("STEWARD_PLATFORM_SPEED", "").strip()
            speed = float(raw) if raw else 1.0
        self.interval = self.INTERVAL / speed
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


class MethodLimit:
    """Slack's per-method limits by tier, per workspace: Tier 3 (``conversations.history``) is
    "50+ per minute". The fake allows 50 in any minute and no more; over it: HTTP 429 with
    ``Retry-After`` (whole seconds, until the oldest call of the minute has aged out). ``speed``
    as in :class:`PostLimit`."""

    TIERS: ClassVar[dict[str, int]] = {"conversations.history": 50}
    WINDOW = 60.0

    def __init__(self, speed: float | None = None) -> None:
        if speed is None:
            raw = os.environ.get("STEWARD_PLATFORM_SPEED", "").strip()
            speed = float(raw) if raw else 1.0
        self.window = self.WINDOW / speed
        self._calls: dict[tuple[str, str], list[float]] = {}
        self.refused = 0

    def retry_after(self, team: str, method: str) -> int | None:
        """Count a call; None when it may go, else the whole seconds to wait."""
        allowed = self.TIERS.get(method)
        if allowed is None:
            return None
        now = time.monotonic()
        calls = [at for at in self._calls.get((team, method), []) if now - at < self.window]
        self._calls[(team, method)] = calls
        if len(calls) >= allowed:
            self.refused += 1
            return max(1, math.ceil(calls[0] + self.window - now))
        calls.append(now)
        return None
