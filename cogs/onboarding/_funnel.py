"""The onboarding funnel (pure): weekly cohorts and how far each got."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

STAGES: tuple[tuple[str, str], ...] = (
    ("joined", "joined"),
    ("rules", "agreed to rules"),
    ("interests", "picked interests"),
    ("intro", "posted an intro"),
    ("reply", "got a reply"),
    ("day7", "active on day 7"),
)


@dataclass(frozen=True, slots=True)
class Journey:
    """One member's milestones."""

    joined_at: datetime
    rules_at: datetime | None = None
    interests_at: datetime | None = None
    intro_at: datetime | None = None
    first_reply_at: datetime | None = None
    day7_active_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Cohort:
    """Members who joined in one week (Monday first, community time), counted per stage."""

    week: date
    counts: tuple[int, ...]

    def count(self, stage: str) -> int:
        """The count for a stage by key."""
        keys = [key for key, _ in STAGES]
        return self.counts[keys.index(stage)]


def week_of(at: datetime, tz: ZoneInfo) -> date:
    """The Monday of the week ``at`` falls in, in the community's time zone."""
    local = at.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def cohorts(journeys: Iterable[Journey], tz: ZoneInfo, since: datetime) -> list[Cohort]:
    """Weekly cohorts of members who joined at or after ``since``, oldest first."""
    table: dict[date, list[int]] = {}
    for j in journeys:
        if j.joined_at < since:
            continue
        row = table.setdefault(week_of(j.joined_at, tz), [0] * len(STAGES))
        reached = (
            True,
            j.rules_at is not None,
            j.interests_at is not None,
            j.intro_at is not None,
            j.first_reply_at is not None,
            j.day7_active_at is not None,
        )
        for i, hit in enumerate(reached):
            row[i] += int(hit)
    return [Cohort(week, tuple(table[week])) for week in sorted(table)]
