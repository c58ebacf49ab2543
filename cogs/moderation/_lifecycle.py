"""A case's life: the states, the moves between them, and the audit of every move (pure).

open -> acknowledged -> actioned | dismissed -> appealed -> upheld | overturned -> closed.
A moderator's action opens a case already actioned; a report or an automod hit opens it open.
Every move is checked against the version the actor saw (two moderators pressing at once: the
second is told the case moved on) and against the interaction that asked for it (a button pressed
twice moves the case once). Closed is terminal: nothing moves a closed case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """Where a case stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"
    APPEALED = "appealed"
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    CLOSED = "closed"


class Move(StrEnum):
    """What someone does to a case."""

    ACKNOWLEDGE = "acknowledge"
    ACTION = "action"
    DISMISS = "dismiss"
    APPEAL = "appeal"
    UPHOLD = "uphold"
    OVERTURN = "overturn"
    CLOSE = "close"


NEXT: dict[tuple[Status, Move], Status] = {
    (Status.OPEN, Move.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.OPEN, Move.ACTION): Status.ACTIONED,
    (Status.OPEN, Move.DISMISS): Status.DISMISSED,
    (Status.ACKNOWLEDGED, Move.ACTION): Status.ACTIONED,
    (Status.ACKNOWLEDGED, Move.DISMISS): Status.DISMISSED,
    (Status.ACTIONED, Move.APPEAL): Status.APPEALED,
    (Status.ACTIONED, Move.CLOSE): Status.CLOSED,
    (Status.DISMISSED, Move.CLOSE): Status.CLOSED,
    (Status.APPEALED, Move.UPHOLD): Status.UPHELD,
    (Status.APPEALED, Move.OVERTURN): Status.OVERTURNED,
    (Status.UPHELD, Move.CLOSE): Status.CLOSED,
    (Status.OVERTURNED, Move.CLOSE): Status.CLOSED,
}
"""Every allowed move; anything else is refused."""

TERMINAL = frozenset({Status.CLOSED})


@dataclass(frozen=True, slots=True)
class Audit:
    """One move, as it happened: who, when, from where to where, at whose request."""

    version: int
    move: Move
    before: Status
    after: Status
    actor: str
    at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Case:
    """A case's status and its audit trail (``version`` counts the moves)."""

    target: str
    status: Status = Status.OPEN
    audit: tuple[Audit, ...] = ()

    @property
    def version(self) -> int:
        """How many moves the case has made."""
        return len(self.audit)


class MoveRefused(Exception):
    """A move that cannot happen; the message says why, for the person who asked."""


_PAST = {
    Move.ACKNOWLEDGE: "acknowledged",
    Move.ACTION: "actioned",
    Move.DISMISS: "dismissed",
    Move.APPEAL: "appealed",
    Move.UPHOLD: "upheld",
    Move.OVERTURN: "overturned",
    Move.CLOSE: "closed",
}
_DONE = {
    Status.OPEN: "open",
    Status.ACKNOWLEDGED: "acknowledged",
    Status.ACTIONED: "actioned",
    Status.DISMISSED: "dismissed",
    Status.APPEALED: "appealed",
    Status.UPHELD: "upheld on appeal",
    Status.OVERTURNED: "overturned on appeal",
    Status.CLOSED: "closed",
}


def apply(case: Case, move: Move, actor: str, at: datetime, key: str, seen: int) -> Case:
    """``case`` after ``actor`` makes ``move`` (requested by interaction ``key``, having seen
    version ``seen``); the same case when ``key`` was already applied; else ``MoveRefused``."""
    if any(entry.key == key for entry in case.audit):
        return case  # the same press delivered twice: it already happened once
    if case.status in TERMINAL:
        raise MoveRefused("This case is closed; nothing more can be done on it.")
    if seen != case.version:
        last = case.audit[-1]
        raise MoveRefused(
            f"Someone got there first: the case was just {_DONE[last.after]} by <@{last.actor}>."
        )
    after = NEXT.get((case.status, move))
    if after is None:
        raise MoveRefused(f"A case that is {_DONE[case.status]} cannot be {_PAST[move]}.")
    if move is Move.APPEAL and actor != case.target:
        raise MoveRefused("Only the member the case is about can appeal it.")
    if move is not Move.APPEAL and actor == case.target:
        raise MoveRefused("You cannot decide on a case about yourself.")
    entry = Audit(case.version + 1, move, case.status, after, actor, at, key)
    return replace(case, status=after, audit=(*case.audit, entry))
