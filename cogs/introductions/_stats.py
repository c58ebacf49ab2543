"""Introductions in numbers (pure): people paired, met rate per round, meetings that lasted."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cogs.introductions._rounds import Answer

Group = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PastRound:
    """One finished round: when it started, its groups and each member's check-in answer."""

    started_at: datetime
    groups: Sequence[Group]
    answers: Mapping[str, Answer]


@dataclass(frozen=True, slots=True)
class RoundLine:
    """One row of the managers' table."""

    started_at: datetime
    people: int
    groups: int
    met: int
    """Groups in which someone answered "we met"."""

    @property
    def met_rate(self) -> float:
        """The share of groups that met (0 when there were none)."""
        return self.met / self.groups if self.groups else 0.0


def round_lines(rounds: Iterable[PastRound], since: datetime) -> list[RoundLine]:
    """A line per round started at or after ``since``, oldest first."""
    lines = []
    for r in sorted(rounds, key=lambda r: r.started_at):
        if r.started_at < since:
            continue
        met = sum(any(r.answers.get(u) is Answer.MET for u in g) for g in r.groups)
        people = sum(len(g) for g in r.groups)
        lines.append(RoundLine(r.started_at, people, len(r.groups), met))
    return lines


def kept_talking(rounds: Iterable[PastRound], talks: Iterable[tuple[str, str, datetime]]) -> int:
    """Pairs introduced in a round who later talked in the community (a reply, mention or thread
    after the introduction), each pair counted once."""
    introduced: dict[frozenset[str], datetime] = {}
    for r in rounds:
        for g in r.groups:
            for pair in itertools.combinations(g, 2):
                key = frozenset(pair)
                introduced[key] = min(introduced.get(key, r.started_at), r.started_at)
    lasted = set()
    for a, b, at in talks:
        key = frozenset((a, b))
        since = introduced.get(key)
        if since is not None and at > since:
            lasted.add(key)
    return len(lasted)
