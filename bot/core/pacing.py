"""Pacing requests under a platform's rate limit, so Steward never earns a 429 it could avoid.

A :class:`Window` lets at most ``limit`` requests through in any ``per`` seconds. A request
counts from the moment it is let through until ``per`` seconds after its answer arrived: the
platform saw it somewhere in between, so whatever window the platform counts in (fixed, from
its first request, or sliding), a request let through here never lands in a window that already
holds ``limit`` others. The cost is one round trip per window, not a guessed safety margin.

:class:`Windows` keeps one window per key (a channel), made when first used and forgotten once
idle. Time is the event loop's monotonic clock: pacing is about real seconds between real
requests, never the features' clock (which a test may move by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass

DISCORD_GLOBAL_PER_SECOND = 50
"""Discord's global limit: 50 requests per second per bot (interaction answers excepted)."""
SLACK_POST_INTERVAL = 1.0
"""Slack's ``chat.postMessage`` limit: about one message per second per channel."""
SLACK_TIER_2 = 20
"""Calls a minute of a Slack Tier 2 method ("20+ per minute", per workspace and method)."""
SLACK_TIER_3 = 50
"""Calls a minute of a Slack Tier 3 method ("50+ per minute", per workspace and method)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The platform limits Steward paces to, ``speed`` times faster than the platforms'.

    ``speed`` is 1 against the real platforms. The sandbox's fakes can run their windows faster
    (their ``speed``, read from ``STEWARD_PLATFORM_SPEED`` like Steward's), so tests and
    benchmarks stay short while both sides keep the same, honest, limits.
    """

    speed: float = 1.0
    discord_share: float = 1.0
    """This process's part of Discord's global budget, when the bot's shards are split between
    processes (its shards over all): the parts add up to the budget, with no shared counter."""

    @property
    def discord_global(self) -> tuple[int, float]:
        """Requests and seconds of Discord's global window (this process's share of it)."""
        return max(math.floor(DISCORD_GLOBAL_PER_SECOND * self.discord_share), 1), 1.0 / self.speed

    @property
    def slack_post(self) -> tuple[int, float]:
        """Messages and seconds of Slack's per-channel window."""
        return 1, SLACK_POST_INTERVAL / self.speed

    @property
    def slack_tier2(self) -> tuple[int, float]:
        """Calls and seconds of a Slack Tier 2 method's window."""
        return SLACK_TIER_2, 60.0 / self.speed

    @property
    def slack_tier3(self) -> tuple[int, float]:
        """Calls and seconds of a Slack Tier 3 method's window."""
        return SLACK_TIER_3, 60.0 / self.speed


BACKLOG: ContextVar[int] = ContextVar("steward_pacing_backlog", default=0)
"""How many more requests wait behind the current one in its channel (the outbox sets it).

When a window is full, the request with the longest queue behind it goes first: the burst ends
when its busiest channel is done, so that channel must never wait behind the quiet ones.
"""


class Window:
    """At most ``limit`` requests in any ``per`` seconds, counted until their answer is in."""

    def __init__(self, limit: int, per: float, now: Callable[[], float] | None = None) -> None:
        if limit < 1 or per <= 0:
            raise ValueError("a window lets at least one request through in a positive time")
        self.limit = limit
        self.per = per
        self._now = now or (lambda: asyncio.get_running_loop().time())
        self._answered: deque[float] = deque()
        self._in_flight = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        """Nothing in flight, waiting, or answered within the window."""
        self._expire(self._now())
        return self._in_flight == 0 and not self._answered and not self._waiting

    def _expire(self, now: float) -> None:
        while self._answered and self._answered[0] <= now - self.per:
            self._answered.popleft()

    def wait_for(self) -> float | None:
        """Seconds until a request may go (0: now; None: when one in flight is answered)."""
        now = self._now()
        self._expire(now)
        if self._in_flight + len(self._answered) < self.limit:
            return 0.0
        if not self._answered:
            return None
        return max(self._answered[0] + self.per - now, 0.0)

    async def acquire(self) -> None:
        """Wait until one more request fits in the window (the longest backlog first)."""
        if not self._waiting and self.wait_for() == 0.0:
            self._in_flight += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-BACKLOG.get(), next(self._order), granted))
        self._grant()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._in_flight -= 1  # granted just before the cancel: give the slot back
                self._grant()
            raise

    def _grant(self) -> None:
        """Let waiters through while the window has room; else look again when it will."""
        while self._waiting:
            wait = self.wait_for()
            if wait != 0.0:
                if wait is not None and self._timer is None:
                    self._timer = asyncio.get_running_loop().call_later(wait, self._tick)
                return
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():
                self._in_flight += 1
                granted.set_result(None)

    def _tick(self) -> None:
        self._timer = None
        self._grant()

    def release(self) -> None:
        """The request's answer arrived (or it failed): it counts for ``per`` seconds more."""
        self._in_flight -= 1
        self._answered.append(self._now())
        self._grant()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One request through the window."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class Windows:
    """One :class:`Window` per key (a channel's messages), forgotten once idle."""

    def __init__(self, limit: int, per: float, now: Callable[[], float] | None = None) -> None:
        self.limit, self.per, self._now = limit, per, now
        self._windows: dict[str, Window] = {}

    def __getitem__(self, key: str) -> Window:
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) > 1000:
                self._windows = {k: w for k, w in self._windows.items() if not w.idle}
            window = self._windows[key] = Window(self.limit, self.per, self._now)
        return window
