"""What engagement tells other features (its public face; import only this module from here).

from cogs.engagement.events import AnnouncementEngagement
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnouncementEngagement(Event):
    """The conversation an announcement started, counted again (told when the counts change)."""

    message_id: str
    channel_id: str
    replies: int
    """Member messages in its discussion (replies to it, its thread)."""
    members: int
    """Distinct members who took part."""
    reactions: int
    first_reply_after: timedelta | None
    """From the post to the first member reply (None: nobody replied yet)."""
    questions: int
    answered: int


__all__ = ["AnnouncementEngagement"]
