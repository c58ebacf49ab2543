"""A community's local time: its time zone and its quiet hours."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UserError


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; a UserError naming the expected form otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"`{name[:40]}` is not a time zone; use a name such as `Europe/Paris` or `UTC`."
        ) from None


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.cache
def _by_folded() -> dict[str, str]:
    return {name.casefold(): name for name in _zones() | {"UTC"}}


def is_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA time zone."""
    return name == "UTC" or name in _zones()


def canonical_zone(name: str) -> str | None:
    """The IANA name ``name`` means in any case (``europe/paris`` is Europe/Paris), or None."""
    return _by_folded().get(name.strip().casefold())


def in_quiet_hours(at: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> bool:
    """Whether ``at`` falls inside the quiet hours (which may wrap past midnight)."""
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(tz).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(at: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime:
    """``at`` itself, or the moment the quiet hours it falls in end."""
    if not in_quiet_hours(at, tz, start, end):
        return at
    assert end is not None
    local = at.astimezone(tz)
    candidate = datetime.combine(local.date(), end, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return candidate.astimezone(at.tzinfo)
