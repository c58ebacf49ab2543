"""What introductions tell other features (its public face; import only this module from here).

from cogs.introductions.events import RoundClosed, RoundStarted

@on(RoundClosed)
async def note(self, ctx, event: RoundClosed) -> None: ...
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


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundClosed(Event):
    """A round ended (the next one started): its final figures (published once saved)."""

    number: int
    people: int
    groups: int
    met: int
    """Groups in which someone said they met."""


__all__ = ["RoundClosed", "RoundStarted"]
