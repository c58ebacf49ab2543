"""What onboarding tells other features (its public face; import only this module from here).

from cogs.onboarding.events import InterestsChosen, OnboardingFinished, StepCompleted

@on(StepCompleted)
async def greet(self, ctx, event: StepCompleted) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core import Event, UserRef

StepName = Literal["rules", "interests", "intro"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepCompleted(Event):
    """A member completed an onboarding step for the first time (published once it is saved)."""

    user: UserRef
    step: StepName
    newcomer: bool
    """Whether they joined while Steward was here (not a member from before Steward)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InterestsChosen(Event):
    """A member picked (or changed) their interests (published once saved; none: all dropped)."""

    user: UserRef
    interests: tuple[str, ...]
    """The names of the interests they hold now, sorted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OnboardingFinished(Event):
    """A member completed the last of the onboarding steps this community uses (rules,
    interests, intro), published with that step."""

    user: UserRef
    newcomer: bool
    """Whether they joined while Steward was here (not a member from before Steward)."""


__all__ = ["InterestsChosen", "OnboardingFinished", "StepCompleted", "StepName"]
