"""Members as snapshots and the ordered privilege level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from bot.core.ids import RoleRef, UserRef


class Level(IntEnum):
    """Who may do what; each level implies the ones below it."""

    MEMBER = 0
    MOD = 1
    ADMIN = 2
    OWNER = 3

    @property
    def label(self) -> str:
        """A word for people: "a moderator", "an admin"."""
        return {
            Level.MEMBER: "a member",
            Level.MOD: "a moderator",
            Level.ADMIN: "an admin",
            Level.OWNER: "the owner",
        }[self]


@dataclass(frozen=True, slots=True)
class Member:
    """A member of a community at one moment, never a live platform object."""

    ref: UserRef
    display_name: str
    level: Level = Level.MEMBER
    is_bot: bool = False
    joined_at: datetime | None = None
    roles: frozenset[RoleRef] = frozenset()
    top_role: int | None = None
    """The position of the member's highest role where the platform ranks roles (Discord: 0 for
    @everyone alone, higher is above); None where it has no ranked roles (Slack)."""
