"""Slack events as the core's domain events: messages, edits, deletions, joins, reactions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack import history, shapes
from bot.adapters.slack.port import SlackPort, to_member
from bot.adapters.slack.text import unescape
from bot.core.events import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    MessageDeleted,
    MessageEdited,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef


def ts_time(ts: Any) -> datetime:
    """A Slack ``ts`` as a time (now, when it is missing or malformed)."""
    return shapes.ts_time(ts) or datetime.now(UTC)


class Translator:
    """Turns one workspace's Events API payloads into domain events and publishes them."""

    def __init__(
        self,
        port: SlackPort,
        community: Callable[[str | None], CommunityRef],
        publish: Callable[[Event], Awaitable[None]],
    ) -> None:
        self.port = port
        self.community = community
        self.publish = publish

    async def message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message posted, edited or deleted in a channel (DMs are not tracked)."""
        subtype = event.get("subtype")
        if event.get("channel_type") == "im":
            return
        community = self.community(shapes.text(body.get("team_id")))
        channel_id = shapes.text(event.get("channel"))
        if subtype == "message_changed":
            changed = shapes.obj(event.get("message"))
            ts = shapes.text(changed.get("ts"))
            thread = shapes.maybe_text(changed.get("thread_ts"))
            ref = MessageRef(
                ChannelRef(community, channel_id, thread if thread != ts else None), ts
            )
            author = shapes.text(changed.get("user"))
            await self.publish(
                MessageEdited(
                    community=community,
                    at=ts_time(event.get("event_ts")),
                    message=ref,
                    author=UserRef(community, author) if author else None,
                    text=unescape(shapes.text(changed.get("text"))),
                )
            )
            return
        if subtype == "message_deleted":
            await self.publish(
                MessageDeleted(
                    community=community,
                    at=ts_time(event.get("event_ts")),
                    message=MessageRef(
                        ChannelRef(community, channel_id), str(event.get("deleted_ts"))
                    ),
                )
            )
            return
        if event.get("ts") is None:
            return
        posted = await history.to_posted(self.port, community, channel_id, event)
        if posted is not None:
            await self.publish(posted)

    async def team_join(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A newcomer joined the workspace."""
        user = shapes.obj(event.get("user"))
        if not shapes.text(user.get("id")):
            return  # no one to welcome
        community = self.community(shapes.text(body.get("team_id")))
        self.port.remember(user)
        self.port.count_joined(user)  # the next welcome counts the newcomer
        await self.publish(
            MemberJoined(
                community=community,
                at=ts_time(body.get("event_time")),
                member=to_member(user, community),
            )
        )

    async def user_change(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A member changed, or was deactivated (they left)."""
        user = shapes.obj(event.get("user"))
        user_id = shapes.text(user.get("id"))
        if not user_id:
            return
        community = self.community(shapes.text(body.get("team_id")))
        self.port.remember(user)
        at = ts_time(body.get("event_time"))
        if user.get("deleted"):
            await self.publish(
                MemberLeft(community=community, at=at, user=UserRef(community, user_id))
            )
        else:
            await self.publish(
                MemberUpdated(
                    community=community,
                    at=at,
                    member=to_member(user, community, await self.port.groups_of(user_id)),
                )
            )

    async def reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A reaction added to or removed from a message."""
        item = shapes.obj(event.get("item"))
        if item.get("type") != "message":
            return
        community = self.community(shapes.text(body.get("team_id")))
        kind = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
        await self.publish(
            kind(
                community=community,
                at=ts_time(event.get("event_ts")),
                message=MessageRef(
                    ChannelRef(community, shapes.text(item.get("channel"))),
                    shapes.text(item.get("ts")),
                ),
                user=UserRef(community, shapes.text(event.get("user"))),
                emoji=shapes.text(event.get("reaction")),
            )
        )
