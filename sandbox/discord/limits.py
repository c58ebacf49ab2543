"""Discord's rate limits as Discord applies and reports them.

* **Per-route buckets.** Each route has a bucket per major parameter (channel, guild, webhook,
  interaction): creating messages allows 5 per 5 seconds per channel, adding reactions 1 per
  0.25 s; other routes 50 per second. A window starts with its first request and resets
  ``per`` seconds later. Answers carry ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``,
  ``-Reset-After`` and ``-Bucket`` (one opaque hash per route, as Discord shares a hash between
  the channels of one route).
* **Global.** 50 requests per second per bot, interaction answers and webhook-token routes
  excepted. Over it: a 429 with ``"global": true``, ``X-RateLimit-Global`` and
  ``X-RateLimit-Scope: global``.
* **Shared.** A resource's own limit (a very busy channel): a 429 with
  ``X-RateLimit-Scope: shared`` that does not count against the bot (a test switches it on).
* **Invalid requests** (Cloudflare): every 401, 403 and 429 (shared scope excepted) counts; at
  10,000 in 10 minutes the address is banned for an hour: 429, a plain-text body and no ``Via``
  header, which discord.py takes for a ban (it raises at once).

``speed`` runs every window that many times faster (the headers then report the shorter real
waits): tests and benchmarks stay short while client and fake keep the same rules. It defaults to
``STEWARD_PLATFORM_SPEED``, the variable Steward reads to pace itself the same way.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from dataclasses import dataclass, field

# operation id -> (requests, seconds) per bucket; https://discord.com/developers/docs/topics/rate-limits
ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "create_message": (5, 5.0),
    "add_my_message_reaction": (1, 0.25),
}
DEFAULT_LIMIT = (50, 1.0)
GLOBAL_LIMIT = (50, 1.0)
INVALID_LIMIT = (10_000, 600.0)
BAN_SECONDS = 3600.0
_UNBOUND = ("/interactions/", "/webhooks/")


def default_speed() -> float:
    """The speed both the fakes and Steward read from ``STEWARD_PLATFORM_SPEED`` (1: real)."""
    raw = os.environ.get("STEWARD_PLATFORM_SPEED", "").strip()
    return float(raw) if raw else 1.0


@dataclass
class Bucket:
    """One fixed window: ``limit`` requests from its first until ``reset_at``."""

    limit: int
    per: float
    used: int = 0
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        """Start a new window if the last one is over."""
        if now >= self.reset_at:
            self.used, self.reset_at = 0, now + self.per

    def headers(self, now: float, bucket_hash: str) -> dict[str, str]:
        """The rate-limit headers of an answer in this bucket."""
        reset_after = max(self.reset_at - now, 0.0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }


@dataclass
class Refusal:
    """Why a request was refused before it reached its handler."""

    scope: str  # user | global | shared | ban
    retry_after: float


@dataclass
class Limits:
    """The fake's limits, counters and switches."""

    speed: float = field(default_factory=default_speed)
    invalid_limit: int = INVALID_LIMIT[0]
    buckets: dict[str, Bucket] = field(default_factory=dict)
    global_bucket: Bucket = field(default_factory=lambda: Bucket(*GLOBAL_LIMIT))
    invalid: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0
    shared: dict[str, tuple[int, float]] = field(default_factory=dict)
    """channel id -> (how many more requests get a shared-scope 429, retry_after)."""
    counts: dict[str, int] = field(default_factory=dict)
    """429s answered, by scope (user, global, shared, ban)."""

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        self.global_bucket.per = GLOBAL_LIMIT[1] / self.speed

    @staticmethod
    def now() -> float:
        """The monotonic clock the windows run on."""
        return time.monotonic()

    def bucket(self, operation_id: str, key: str) -> Bucket:
        """The bucket of a route and its major parameters."""
        b = self.buckets.get(key)
        if b is None:
            limit, per = ROUTE_LIMITS.get(operation_id, DEFAULT_LIMIT)
            b = self.buckets[key] = Bucket(limit, per / self.speed)
        b.roll(self.now())
        return b

    @staticmethod
    def bucket_hash(operation_id: str) -> str:
        """The opaque hash Discord names a route's buckets by."""
        return hashlib.sha1(operation_id.encode()).hexdigest()[:16]

    def check(self, operation_id: str, key: str, path: str, channel: str | None) -> Refusal | None:
        """Count a request in its windows, or say why it is refused (nothing counted then)."""
        now = self.now()
        if now < self.banned_until:
            return Refusal("ban", self.banned_until - now)
        if channel is not None and channel in self.shared:
            left, retry_after = self.shared[channel]
            if left <= 1:
                del self.shared[channel]
            else:
                self.shared[channel] = (left - 1, retry_after)
            return Refusal("shared", retry_after)
        bound = not any(part in path for part in _UNBOUND)
        g = self.global_bucket
        if bound:
            g.roll(now)
            if g.used >= g.limit:
                return Refusal("global", g.reset_at - now)
        b = self.bucket(operation_id, key)
        if b.used >= b.limit:
            return Refusal("user", b.reset_at - now)
        b.used += 1
        if bound:
            g.used += 1
        return None

    def answered(self, status: int, scope: str | None) -> None:
        """Count an answer: 401, 403 and 429 (not shared) are invalid requests."""
        if status == 429 and scope is not None:
            self.counts[scope] = self.counts.get(scope, 0) + 1
        if status not in (401, 403, 429) or scope in ("shared", "ban"):
            return
        now = self.now()
        self.invalid.append(now)
        while self.invalid and self.invalid[0] <= now - INVALID_LIMIT[1] / self.speed:
            self.invalid.popleft()
        if len(self.invalid) >= self.invalid_limit:
            self.banned_until = now + BAN_SECONDS / self.speed
            self.invalid.clear()
