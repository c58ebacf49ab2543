"""What the announcement relay tells other features (its public face; import only this module).

from cogs.announcements.events import AnnouncementEngagement, AnnouncementPosted

@on(AnnouncementPosted)
async def follow(self, ctx, event: AnnouncementPosted) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core import ChannelRef, Event, MessageRef


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnouncementPosted(Event):
    """The relay posted an item (published once the post landed and its discussion opened)."""

    message: MessageRef
    """The post members see."""
    discussion: ChannelRef | None
    """Where members discuss it: a Discord thread, or the Slack thread under the post."""
    title: str
    """The item's title as posted (plain text)."""
    source: str
    """The feed it came from, by name."""
    link: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnouncementEngagement(Event):
    """The conversation an announcement started, counted again by engagement (told when the
    counts change). It lives here, beside the event it answers, so that the relay never imports
    engagement: features may import each other's events, but never in a circle."""

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


__all__ = ["AnnouncementEngagement", "AnnouncementPosted"]
