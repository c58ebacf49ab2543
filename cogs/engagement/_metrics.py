"""Pure metric functions over plain values: the definitions the reports and tests share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

EPOCH = date(1970, 1, 1)
RETENTION_DAYS = (1, 7, 30)


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


def parse_period(text: str, today: int) -> Period | None:
    """``7d``, ``4w``, ``30`` or ``2026-01-01..2026-01-31``; periods end today unless dated."""
    text = text.strip().lower()
    if ".." in text:
        start, _, end = text.partition("..")
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return None
        if last < first:
            return None
        return Period((first - EPOCH).days, (last - EPOCH).days)
    unit = 7 if text.endswith("w") else 1
    number = text.rstrip("dw")
    if not number.isdigit() or not 1 <= int(number) * unit <= 3660:
        return None
    return Period(today - int(number) * unit + 1, today)


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
    """Members who joined in one week, and how many were still active N days later."""

    week: int
    size: int
    retained: tuple[int | None, ...]
    """Per RETENTION_DAYS: members active on or after join day + N (None: too early to tell)."""
    eligible: tuple[int, ...]
    """Per RETENTION_DAYS: members whose join day + N is on or before today."""

    def rate(self, index: int) -> float | None:
        """Retention at RETENTION_DAYS[index] among the members old enough to measure."""
        kept = self.retained[index]
        return None if kept is None else ratio(kept, self.eligible[index])


def retention(members: Iterable[tuple[int, int | None]], today: int) -> list[Cohort]:
    """Weekly cohorts from (join day, last active day) pairs.

    A member is retained at day N when they were active on some day on or after join day + N
    (unbounded retention); only members who joined at least N days ago are counted.
    """
    by_week: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for joined, last in members:
        by_week[week_of(joined)].append((joined, last))
    cohorts = []
    for week in sorted(by_week):
        rows = by_week[week]
        retained: list[int | None] = []
        eligible: list[int] = []
        for n in RETENTION_DAYS:
            old_enough = [(j, last) for j, last in rows if j + n <= today]
            eligible.append(len(old_enough))
            retained.append(
                sum(1 for j, last in old_enough if last is not None and last >= j + n)
                if old_enough
                else None
            )
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
