"""What a server says about when to ask again: Cache-Control max-age, Expires, Retry-After."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.core.parsing import digits_value

# MonitoRSS caps trust in a server's freshness at an hour: longer would hide a real update.
MAX_FRESHNESS = 3600.0
_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d{1,10})", re.IGNORECASE)


def freshness(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the answer stays fresh per Cache-Control/Expires (at most an hour), or None."""
    control = headers.get("Cache-Control", "")
    if re.search(r"no-store|no-cache", control, re.IGNORECASE):
        return None
    found = _MAX_AGE.search(control)
    if found:
        return min(float(found.group(1)), MAX_FRESHNESS)
    expires = _when(headers.get("Expires"))
    if expires is not None:
        seconds = (expires - (now or datetime.now(UTC))).total_seconds()
        return min(seconds, MAX_FRESHNESS) if seconds > 0 else None
    return None


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds a 429/503 asks Steward to wait (delta or HTTP date), or None."""
    raw = (headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    if raw.isdigit():  # a delay in seconds (``²`` is a digit too, and no delay)
        delay = digits_value(raw[:10])
        return None if delay is None else float(min(delay, 7 * 86400))
    when = _when(raw)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
