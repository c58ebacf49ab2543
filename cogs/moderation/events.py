"""What moderation tells other features (its public face; import only this module).

from cogs.moderation.events import ModerationWeek

@on(ModerationWeek)
async def noted(self, ctx, event: ModerationWeek) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class ModerationWeek(Event):
    """Moderation's figures for the seven days up to ``at``, published every hour (so the weekly
    digest, whenever it is sent, has figures at most an hour old). Counts only, never who."""

    reports: int
    """Member reports received."""
    actions: int
    """Warnings, timeouts, kicks, bans and automod actions taken."""
    escalations: int
    """Members' problems escalated to the team."""
    closed: int
    """Cases closed (reports and escalations alike)."""
    escalations_open: int
    """Escalations still waiting for a fix, whenever they were opened."""
    oldest_escalation: timedelta | None = None
    """How long the oldest open escalation has waited (None: none is open)."""


__all__ = ["ModerationWeek"]
