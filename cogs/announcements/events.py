"""What the announcement relay tells other features (its public face; import only this module).

from cogs.announcements.events import AnnouncementPosted

@on(AnnouncementPosted)
async def follow(self, ctx, event: AnnouncementPosted) -> None: ...
"""

from __future__ import annotations

from dataclasses import dataclass

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


__all__ = ["AnnouncementPosted"]
