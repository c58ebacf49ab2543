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

from bot.core import UserError
from bot.core.parsing import digits_value, parse_duration


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


def parse_steps(text: str) -> tuple[Step, ...]:
    """Steps written as managers type them: ``3 timeout 1d, 5 kick, 8 ban`` (empty: no steps).

    A timeout needs a duration of at most 28 days; thresholds are positive and distinct.
    ``ValueError`` says what is wrong, in words for the manager.
    """
    steps: list[Step] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        words = part.split()
        points = digits_value(words[0], most=6) if words else None
        if len(words) < 2 or points is None or points < 1:
            raise ValueError(f"{part!r}: write steps like `3 timeout 1d, 5 kick, 8 ban`")
        try:
            sanction = Sanction(words[1].lower())
        except ValueError:
            raise ValueError(f"{part!r}: a step is a timeout, kick or ban") from None
        duration = None
        if sanction is Sanction.TIMEOUT:
            if len(words) != 3:
                raise ValueError(f"{part!r}: a timeout step needs how long, like `3 timeout 1d`")
            duration = _duration(words[2])
            if not timedelta(minutes=1) <= duration <= timedelta(days=28):
                raise ValueError(f"{part!r}: a timeout lasts from 1m to 28d")
        elif len(words) != 2:
            raise ValueError(f"{part!r}: only a timeout step takes a duration")
        steps.append(Step(points, sanction, duration))
    if len({s.points for s in steps}) != len(steps):
        raise ValueError("two steps have the same number of points")
    return tuple(sorted(steps, key=lambda s: s.points))


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except UserError as exc:
        raise ValueError(f"{text!r} is not a duration like 30m, 12h or 1d") from exc


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
