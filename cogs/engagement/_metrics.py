"""Pure metric functions over plain values: the definitions the reports and tests share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

EPOCH = date(1970, 1, 1)
RETENTION_WEEKS = (1, 2, 4)
"""Retention is shown for the 1st, 2nd and 4th week after the join week."""
COHORT_WEEKS = 13
"""How many weekly cohorts a report shows (a quarter)."""


def day_of(at: datetime) -> int:
    """The UTC day number of a time (days since 1970-01-01)."""
    return day_number(at.timestamp())


def day_number(timestamp: float) -> int:
    """The UTC day number of a POSIX time."""
    return int(timestamp // 86_400)


def date_of(day: int) -> date:
    """The calendar date of a day number."""
    return EPOCH + timedelta(days=day)


def week_of(day: int) -> int:
    """The week number of a day; weeks start on Monday (1970-01-01 was a Thursday)."""
    return (day + 3) // 7


def week_start(week: int) -> int:
    """The day number of the Monday that starts a week."""
    return week * 7 - 3


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days ``first`` .. ``last``, both included."""

    first: int
    last: int

    @property
    def days(self) -> int:
        """How many days the period spans."""
        return self.last - self.first + 1

    def before(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - self.days, self.first - 1)

    def label(self) -> str:
        """``2026-01-05 – 2026-01-11``."""
        return f"{date_of(self.first).isoformat()} – {date_of(self.last).isoformat()}"


def stickiness(daily_active: Mapping[int, int], period: Period, mau: int) -> float | None:
    """Mean DAU over the period (days without anyone count as 0) divided by MAU."""
    if mau == 0:
        return None
    mean = sum(daily_active.get(d, 0) for d in range(period.first, period.last + 1)) / period.days
    return mean / mau


def median(values: Iterable[float]) -> float | None:
    """The median, or None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Cohort:
    """Members who joined in one week, and how many came back in later weeks."""

    week: int
    size: int
    retained: tuple[int | None, ...]
    """Per RETENTION_WEEKS: members active in week N after their join week (None: that week
    is not over yet, so it is not shown)."""
    eligible: tuple[int, ...]
    """Per RETENTION_WEEKS: the cohort's size once week N after it is over, else 0."""

    def rate(self, index: int) -> float | None:
        """Retention in RETENTION_WEEKS[index], once that week is over."""
        kept = self.retained[index]
        return None if kept is None else ratio(kept, self.eligible[index])


def cohort_weeks(last: int) -> tuple[int, int]:
    """The first and last join weeks of the cohorts a report ending on day ``last`` shows."""
    return week_of(last) - COHORT_WEEKS + 1, week_of(last)


def complete(week: int, n: int, last: int) -> bool:
    """Whether week ``n`` after join week ``week`` is over by the end of day ``last``."""
    return week_start(week + n) + 6 <= last


def retention(members: Iterable[tuple[int, Iterable[int]]], last: int) -> list[Cohort]:
    """Weekly cohorts from (join day, active days) pairs, as a report ending on ``last`` sees.

    Retention by period after joining: a member counts in week N when they were active in the
    N-th week after the week they joined (weeks start on Monday); a week still running, and
    anything after ``last`` (a past report), does not count. Only members who joined by
    ``last``, in the ``COHORT_WEEKS`` weeks up to it, are cohorts.
    """
    first_week, last_week = cohort_weeks(last)
    by_week: dict[int, list[set[int]]] = defaultdict(list)
    for joined, days in members:
        week = week_of(joined)
        if joined <= last and first_week <= week <= last_week:
            by_week[week].append({week_of(d) - week for d in days if d <= last})
    cohorts = []
    for week in sorted(by_week):
        rows = by_week[week]
        retained: list[int | None] = []
        eligible: list[int] = []
        for n in RETENTION_WEEKS:
            if complete(week, n, last):
                eligible.append(len(rows))
                retained.append(sum(1 for offsets in rows if n in offsets))
            else:
                eligible.append(0)
                retained.append(None)
        cohorts.append(Cohort(week, len(rows), tuple(retained), tuple(eligible)))
    return cohorts


# -- the reply graph ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Graph:
    """Who talks with whom: the undirected graph of replies between distinct members."""

    partners: dict[str, frozenset[str]]

    @classmethod
    def of(cls, edges: Iterable[tuple[str, str]]) -> Graph:
        """From (replier, replied-to) pairs; self-replies are not conversations."""
        found: dict[str, set[str]] = defaultdict(set)
        for a, b in edges:
            if a != b:
                found[a].add(b)
                found[b].add(a)
        return cls({k: frozenset(v) for k, v in found.items()})

    def connected(self, minimum: int = 3) -> list[str]:
        """Members with at least ``minimum`` distinct conversation partners."""
        return sorted(m for m, p in self.partners.items() if len(p) >= minimum)

    def groups(self) -> list[frozenset[str]]:
        """Connected groups, largest first."""
        seen: set[str] = set()
        found: list[frozenset[str]] = []
        for start in sorted(self.partners):
            if start in seen:
                continue
            group = {start}
            stack = [start]
            while stack:
                for other in self.partners[stack.pop()]:
                    if other not in group:
                        group.add(other)
                        stack.append(other)
            seen |= group
            found.append(frozenset(group))
        return sorted(found, key=lambda g: (-len(g), sorted(g)))

    def largest_group(self) -> frozenset[str]:
        """The members of the largest connected group (empty when nobody replied)."""
        groups = self.groups()
        return groups[0] if groups else frozenset()

    def bridges(self) -> list[str]:
        """Members who bridge groups: removing them splits their group (articulation points)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        found: set[str] = set()
        counter = 0
        for root in sorted(self.partners):
            if root in index:
                continue
            index[root] = low[root] = counter
            counter += 1
            children = 0
            stack: list[tuple[str, str | None, list[str]]] = [
                (root, None, sorted(self.partners[root]))
            ]
            while stack:
                node, parent, todo = stack[-1]
                if todo:
                    nxt = todo.pop()
                    if nxt == parent:
                        continue
                    if nxt in index:
                        low[node] = min(low[node], index[nxt])
                    else:
                        index[nxt] = low[nxt] = counter
                        counter += 1
                        if node == root:
                            children += 1
                        stack.append((nxt, node, sorted(self.partners[nxt])))
                    continue
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[node])
                    if parent != root and low[node] >= index[parent]:
                        found.add(parent)
            if children > 1:
                found.add(root)
        return sorted(found)
