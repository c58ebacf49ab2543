"""The choices moderation's commands offer (Discord shows them as pick lists)."""

from __future__ import annotations

from typing import Literal

Kind = Literal[
    "word",
    "regex",
    "invite",
    "link_deny",
    "link_allow",
    "mentions",
    "flood",
    "repeat",
    "caps",
    "newlines",
]
Does = Literal["alert", "delete", "warn", "timeout"]
CaseStatus = Literal["open", "acknowledged", "actioned", "dismissed", "appealed", "closed"]
CaseKind = Literal[
    "note",
    "warn",
    "timeout",
    "kick",
    "ban",
    "unban",
    "automod",
    "report",
    "reportbar",
    "escalation",
]
