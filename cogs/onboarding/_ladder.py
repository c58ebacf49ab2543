"""The nudge ladder: which step a member is nudged about, and when (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.localtime import next_allowed


class Step(StrEnum):
    """A rung of the ladder, in the order a newcomer meets them."""

    RULES = "rules"
    INTERESTS = "interests"
    INTRO = "intro"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Progress:
    """What a member has done so far, as plain values."""

    joined_at: datetime
    rules_at: datetime | None = None
    interests_at: datetime | None = None
    intro_at: datetime | None = None
    first_post_at: datetime | None = None
    nudged: frozenset[Step] = frozenset()
    present: bool = True

    def done(self, step: Step) -> bool:
        """Whether the member already did what ``step`` asks."""
        return {
            Step.RULES: self.rules_at,
            Step.INTERESTS: self.interests_at,
            Step.INTRO: self.intro_at,
            Step.SILENT: self.first_post_at or self.intro_at,
        }[step] is not None


@dataclass(frozen=True, slots=True)
class Quiet:
    """The community's quiet hours in its own time zone."""

    tz: ZoneInfo
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True, slots=True)
class Ladder:
    """How long after joining each step is nudged; None switches a step off."""

    delays: Mapping[Step, timedelta | None]
    applies: frozenset[Step] = frozenset(Step)

    def delay(self, step: Step) -> timedelta | None:
        """The delay of a step, or None when it is off or doesn't apply here."""
        return self.delays.get(step) if step in self.applies else None


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do when a nudge timer fires: send now, drop it, or wait until ``at``."""

    action: str
    at: datetime | None = None


SEND = Decision("send")
DROP = Decision("drop")


def plan(progress: Progress, ladder: Ladder, quiet: Quiet) -> dict[Step, datetime]:
    """When each still-needed nudge should fire: not done, not sent, switched on."""
    out: dict[Step, datetime] = {}
    if not progress.present:
        return out
    for step in Step:
        delay = ladder.delay(step)
        if delay is None or progress.done(step) or step in progress.nudged:
            continue
        due = progress.joined_at + delay
        out[step] = next_allowed(due, quiet.tz, quiet.start, quiet.end)
    return out


def decide(step: Step, progress: Progress, ladder: Ladder, now: datetime, quiet: Quiet) -> Decision:
    """Whether a due nudge goes out now: each fires once, and never in quiet hours."""
    delay = ladder.delay(step)
    if not progress.present or delay is None or progress.done(step) or step in progress.nudged:
        return DROP
    due = progress.joined_at + delay
    if now < due:
        return Decision("wait", next_allowed(due, quiet.tz, quiet.start, quiet.end))
    allowed = next_allowed(now, quiet.tz, quiet.start, quiet.end)
    if allowed > now:
        return Decision("wait", allowed)
    return SEND


MEMBER_STEPS = (Step.RULES, Step.INTERESTS, Step.INTRO)
"""The steps a member is reminded of themselves (the silent alert goes to the greeters)."""


def due_together(
    step: Step, progress: Progress, ladder: Ladder, now: datetime, quiet: Quiet
) -> list[Step]:
    """The member's reminders due now along with ``step`` (itself first sent): after a long
    wait or downtime they are sent as one message instead of one each."""
    if step not in MEMBER_STEPS or decide(step, progress, ladder, now, quiet) is not SEND:
        return []
    return [s for s in MEMBER_STEPS if s is step or decide(s, progress, ladder, now, quiet) is SEND]
