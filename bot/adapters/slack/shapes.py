"""Reading Slack's JSON without trusting its shape: a field that should hold an object, a text
or a list may hold anything else (a changed payload, an odd client, a forged HTTP body that
passed no signature check in a test setup). Readers take what fits and skip the rest."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objs(value: Any) -> list[dict[str, Any]]:
    """The objects in ``value`` when it is a list (anything else in it skipped)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text(value: Any) -> str:
    """``value`` when it is a text, else ""."""
    return value if isinstance(value, str) else ""


def maybe_text(value: Any) -> str | None:
    """``value`` when it is a non-empty text, else None."""
    return value if isinstance(value, str) and value else None


def ts_time(ts: Any) -> datetime | None:
    """A Slack ``ts`` ("1700000000.000100") as a time; None when it is not one."""
    if not isinstance(ts, str | int | float) or isinstance(ts, bool):
        return None
    try:
        seconds = float(ts)
        return datetime.fromtimestamp(seconds, UTC) if math.isfinite(seconds) else None
    except (ValueError, OverflowError, OSError):
        return None
