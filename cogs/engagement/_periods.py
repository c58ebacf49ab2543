"""Periods as managers type them: ``7d``, ``4w``, ``3 months``, ``2026-01-01..2026-01-31``."""

from __future__ import annotations

import re
from datetime import date, timedelta

from cogs.engagement._metrics import EPOCH, Period, date_of

MAX_DAYS = 3660
"""The longest period a report covers (ten years)."""
EXAMPLES = "`7d`, `4w`, `3 months` or `2026-01-01..2026-01-31`"
_SPAN = re.compile(r"^(\d+)\s*([a-z]*)$")
UNITS = {
    "": 1,
    "d": 1,
    "day": 1,
    "days": 1,
    "w": 7,
    "wk": 7,
    "week": 7,
    "weeks": 7,
    "m": 0,
    "mo": 0,
    "month": 0,
    "months": 0,
    "y": 12,
    "yr": 12,
    "year": 12,
    "years": 12,
}
"""Days per unit; 0 marks calendar months, and years count 12 of them (see ``_months_back``)."""


class PeriodError(ValueError):
    """A period Steward cannot use; the message says why, in a manager's words."""


def parse_period(text: str, today: int) -> Period:
    """The period a manager typed; periods end today unless dated."""
    text = text.strip().lower()
    if ".." in text:
        start, _, end = text.partition("..")
        try:
            first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
        except ValueError:
            raise PeriodError(
                f"`{text}` is not two dates: write them like `2026-01-01..2026-01-31`."
            ) from None
        if last < first:
            raise PeriodError(
                f"That period ends ({last}) before it starts ({first}): put the earlier date first."
            )
        period = Period((first - EPOCH).days, (last - EPOCH).days)
    else:
        found = _SPAN.match(text)
        unit = found.group(2) if found else ""
        if found is None or unit not in UNITS:
            raise PeriodError(f"I don't understand the period `{text}`. Try {EXAMPLES}.")
        if len(found.group(1)) > 6:  # int() refuses over 4,300 digits; no period needs 7
            raise PeriodError(_too_long())
        number = int(found.group(1))
        if number == 0:
            raise PeriodError("A period needs at least one day: try `1d` or `7d`.")
        per = UNITS[unit]
        if per in (0, 12):
            months = number * (12 if per == 12 else 1)
            if months > MAX_DAYS // 30:
                raise PeriodError(_too_long())
            first = _months_back(date_of(today), months) + timedelta(days=1)
            period = Period((first - EPOCH).days, today)
        else:
            if number * per > MAX_DAYS:
                raise PeriodError(_too_long())
            period = Period(today - number * per + 1, today)
    if period.days > MAX_DAYS:
        raise PeriodError(_too_long())
    return period


def _too_long() -> str:
    return f"That is longer than {MAX_DAYS // 366} years: give at most {MAX_DAYS} days."


def _months_back(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the month's last day when it is shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover
