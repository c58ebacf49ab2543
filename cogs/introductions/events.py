"""What introductions tell other features (its public face; import only this module from here).

from cogs.introductions.events import RoundStarted

@on(RoundStarted)
async def note(self, ctx, event: RoundStarted) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundStarted(Event):
    """A round of introductions formed its groups (published once they are saved)."""

    number: int
    people: int
    groups: int


__all__ = ["RoundStarted"]
