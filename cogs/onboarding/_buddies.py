"""Choosing a newcomer's buddy (pure): shared interests first, then the lightest load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member of the buddy pool as the chooser sees them."""

    user_id: str
    capacity: int
    load: int
    paused: bool = False
    interests: frozenset[int] = frozenset()


def choose_buddy(
    newcomer: str, interests: frozenset[int], pool: Sequence[Candidate]
) -> Candidate | None:
    """The best buddy: never paused, never full, never the newcomer; most shared interests, then
    least load, then most spare room, then a stable id order so the choice is deterministic."""
    open_ = [c for c in pool if not c.paused and c.load < c.capacity and c.user_id != newcomer]
    if not open_:
        return None
    return min(
        open_,
        key=lambda c: (-len(c.interests & interests), c.load, -(c.capacity - c.load), c.user_id),
    )
