"""Snowflakes, tokens and timestamps shaped like Discord's."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import time

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Clock-based, strictly increasing snowflakes (discord.py derives created_at from them)."""

    def __init__(self, worker: int = 1, process: int = 0) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._counter = itertools.count()
        self._last = 0

    def next_int(self) -> int:
        """Return a new snowflake as an int, never smaller than the previous one."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (self._worker << 17) | (self._process << 12)
        value |= next(self._counter) & 0xFFF
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def __call__(self) -> str:
        """Return a new snowflake as the string Discord sends."""
        return str(self.next_int())


class StableSnowflakes(SnowflakeGenerator):
    """Ids counted from a fixed moment until ``live()``, then clock-based: a world built in the
    same order gets the same ids every time (the sandbox's server, kept between runs), and
    everything made later is newer than all of them."""

    FIXED_MS = 1_735_689_600_000 - DISCORD_EPOCH_MS  # 2025-01-01

    def __init__(self) -> None:
        super().__init__()
        self._fixed = True
        self._n = 0

    def live(self) -> None:
        """From now on, ids follow the clock."""
        self._fixed = False

    def next_int(self) -> int:
        """The next fixed id, or a clock-based one once live."""
        if not self._fixed:
            return super().next_int()
        self._n += 1
        self._last = (self.FIXED_MS << 22) + self._n
        return self._last


def now_iso() -> str:
    """Return the current UTC time in the ISO form Discord uses (explicit +00:00)."""
    return dt.datetime.now(dt.UTC).isoformat()


def snowflake_time(snowflake: str) -> dt.datetime:
    """Return the creation time encoded in a snowflake."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def interaction_token() -> str:
    """Return a URL-safe interaction token of roughly Discord's length."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(64)


def webhook_token() -> str:
    """Return a 68-character URL-safe webhook token (Webhook.from_url needs 60+)."""
    return secrets.token_urlsafe(51)[:68]
