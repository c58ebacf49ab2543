"""When rounds happen (pure): the cadence, the next round's time, the check-ins and the ghost rule.

A round starts on one of the chosen weekdays at the chosen hour in the community's time zone,
in weeks counted from an anchor week (every 1, 2 or 4 weeks), and lasts until the next one. Times
that fall in the quiet hours move to the moment the quiet hours end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.errors import UserError
from bot.core.localtime import next_allowed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_WEEKS = (1, 2, 4)
GHOST_ROUNDS = 3
"""Rounds ignored in a row after which a member is paused (Donut's rule)."""
MIDWAY, NEAR_END = 0.5, 0.85
"""Where in a round the two check-ins fall, as a share of its length."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """Which weekdays (0 = Monday) and how many weeks apart rounds happen."""

    days: tuple[int, ...] = (0,)
    every_weeks: int = 1

    def describe(self) -> str:
        """The cadence in words, as managers type it."""
        days = ",".join(WEEKDAYS[d] for d in self.days)
        if self.every_weeks == 1:
            return "weekly" if self.days == (0,) else days
        return f"every {self.every_weeks} weeks on {days}"


MAX_CADENCE_CHARS = 100
"""Longer than any cadence (``every 2 weeks on mon,tue,wed,thu,fri,sat,sun`` is 43)."""


def parse_cadence(text: str) -> Cadence:
    """``weekly``, ``every 2 weeks``, ``every 4 weeks``, ``mon,thu`` or ``every 2 weeks on tue``."""
    words = " ".join(text.lower().split())  # one space between words keeps the match linear
    if len(words) > MAX_CADENCE_CHARS:
        raise UserError(f"That is too long for a cadence. {_CADENCE_HELP}")
    match = re.fullmatch(r"(?:(weekly)|every (\d+) weeks?)?(?:\s*(?:on\s+)?([a-z, ]+))?", words)
    if not words or match is None:
        raise UserError(_CADENCE_HELP)
    _, weeks, days = match.groups()
    every = int(weeks) if weeks else 1
    if every not in EVERY_WEEKS:
        raise UserError(_CADENCE_HELP)
    chosen: tuple[int, ...] = (0,)
    if days:
        names = [d.strip()[:3] for d in re.split(r"[ ,]+", days.strip()) if d.strip()]
        if not names or any(n not in WEEKDAYS for n in names):
            raise UserError(_CADENCE_HELP)
        chosen = tuple(sorted({WEEKDAYS.index(n) for n in names}))
    return Cadence(chosen, every)


_CADENCE_HELP = (
    "I could not read that cadence. Use `weekly`, `every 2 weeks`, `every 4 weeks`, "
    "several days such as `mon,thu`, or `every 2 weeks on tue`."
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A community's round schedule in its own time zone, quiet hours included."""

    tz: ZoneInfo
    cadence: Cadence = Cadence()
    at: time = time(10, 0)
    anchor: date = date(2026, 1, 5)
    """A Monday of a week that has rounds; weeks are counted from it."""
    quiet_start: time | None = None
    quiet_end: time | None = None


def next_round(after: datetime, schedule: Schedule) -> datetime:
    """The first round start strictly after ``after`` (aware), moved out of the quiet hours."""
    local = after.astimezone(schedule.tz)
    monday = local.date() - timedelta(days=local.weekday())
    anchor = schedule.anchor - timedelta(days=schedule.anchor.weekday())
    for week in range(5 * max(EVERY_WEEKS)):
        start = monday + timedelta(weeks=week)
        if ((start - anchor).days // 7) % schedule.cadence.every_weeks:
            continue
        for day in schedule.cadence.days:
            moment = datetime.combine(start + timedelta(days=day), schedule.at, tzinfo=schedule.tz)
            moved = _awake(moment, schedule)
            if moved > after:
                return moved.astimezone(after.tzinfo)
    raise AssertionError("a cadence always has a day within twenty weeks")


def check_ins(start: datetime, end: datetime, schedule: Schedule) -> tuple[datetime, datetime]:
    """When to ask "did you meet?": midway and near the end, outside quiet hours, before ``end``."""
    span = end - start
    times = []
    for share in (MIDWAY, NEAR_END):
        moment = _awake(start + span * share, schedule)
        times.append(min(moment, end - timedelta(minutes=1)))
    return times[0], times[1]


def _awake(moment: datetime, schedule: Schedule) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    return next_allowed(moment, schedule.tz, schedule.quiet_start, schedule.quiet_end)


class Answer(StrEnum):
    """What a member did with a round's check-in."""

    MET = "met"
    NOT_YET = "not_yet"
    SKIP = "skip"
    IGNORED = "ignored"


def is_ghost(answers: Sequence[Answer], limit: int = GHOST_ROUNDS) -> bool:
    """Whether the member ignored the last ``limit`` rounds in a row (oldest answer first)."""
    return len(answers) >= limit and all(a is Answer.IGNORED for a in answers[-limit:])


def in_pool(opted_in: bool, paused_until: int | None, round_number: int) -> bool:
    """Whether a member takes part in round ``round_number`` (paused up to that round excluded)."""
    return opted_in and (paused_until is None or round_number >= paused_until)
