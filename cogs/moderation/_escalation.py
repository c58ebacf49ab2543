"""The escalation ladder: points per case that decay, and the step a member's points reach (pure).

A step is taken once per crossing: it is due when the member's live points reach its threshold
and no live case the ladder opened already enacted this step or a higher one. Recording the
ladder's case therefore makes ``decide`` answer "nothing" next time (idempotent, so a retried
event never punishes twice); when that case has aged out with the points, a new crossing counts.
Voided cases count for nothing, neither their points nor the step they enacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Sanction(StrEnum):
    """What a step of the ladder does."""

    TIMEOUT = "timeout"
    KICK = "kick"
    BAN = "ban"


@dataclass(frozen=True, slots=True)
class Step:
    """``points`` live points or more lead to ``sanction`` (for ``duration``, when it has one)."""

    points: int
    sanction: Sanction
    duration: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Ladder:
    """A community's ladder: points per case type, how long points live, and the steps."""

    points: Mapping[str, int]
    points_decay: timedelta
    steps: tuple[Step, ...]

    def points_for(self, case_type: str) -> int:
        """Points a new case of ``case_type`` carries (0 for types the ladder does not count)."""
        return self.points.get(case_type, 0)


DEFAULT_LADDER = Ladder(
    points={"warn": 1, "automod": 1, "timeout": 2, "kick": 3},
    points_decay=timedelta(days=30),
    steps=(
        Step(3, Sanction.TIMEOUT, timedelta(days=1)),
        Step(5, Sanction.KICK),
        Step(8, Sanction.BAN),
    ),
)
"""The ladder a community starts with: 3 points in 30 days -> 1-day timeout, 5 -> kick, 8 -> ban."""


@dataclass(frozen=True, slots=True)
class PastCase:
    """A case of the member, as the ladder sees it."""

    at: datetime
    points: int
    voided: bool = False
    enacted: int | None = (
        None  # the threshold of the step this case carried out, if the ladder opened it
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """The member's live points and the step now due (None: nothing to do)."""

    points: int
    step: Step | None


def live(case: PastCase, now: datetime, decay: timedelta) -> bool:
    """Whether ``case`` still counts at ``now``."""
    return not case.voided and now - decay < case.at <= now


def decide(history: Iterable[PastCase], now: datetime, ladder: Ladder) -> Decision:
    """The step ``history`` makes due at ``now``: the highest one reached and not yet enacted."""
    cases = [c for c in history if live(c, now, ladder.points_decay)]
    points = sum(c.points for c in cases)
    enacted = max((c.enacted for c in cases if c.enacted is not None), default=None)
    reached = [s for s in ladder.steps if s.points <= points]
    if not reached:
        return Decision(points, None)
    step = max(reached, key=lambda s: s.points)
    if enacted is not None and enacted >= step.points:
        return Decision(points, None)
    return Decision(points, step)
