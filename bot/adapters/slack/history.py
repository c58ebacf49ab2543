"""Channel history for catch-up: conversations.history and .replies as core MessagePosted."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import shapes
from bot.adapters.slack._answers import slack_error
from bot.adapters.slack.text import mentioned_users, unescape
from bot.core.events import MessagePosted, ReactionAdded
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef
from bot.core.members import Member


class SlackPort(Protocol):
    """What reading history needs of the Slack port (``port.SlackPort``, which imports this)."""

    client: AsyncWebClient

    async def member(self, user: UserRef) -> Member | None:
        """A member snapshot, or None when Slack has no such user."""
        ...


POSTED_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message", "bot_message"}
"""Message subtypes that count as a post (the rest are edits, deletions, joins...)."""
PAGE = 200


def _at(ts: str) -> datetime | None:
    return shapes.ts_time(ts)


async def to_posted(
    port: SlackPort, where: CommunityRef, channel_id: str, data: dict[str, Any]
) -> MessagePosted | None:
    """A message (from an event or from history) as MessagePosted; None for other subtypes."""
    subtype = data.get("subtype")
    if not (subtype is None or isinstance(subtype, str)) or subtype not in POSTED_SUBTYPES:
        return None
    ts = shapes.text(data.get("ts"))
    at = _at(ts)
    if at is None:
        return None  # no message Steward could point back at
    user_id = shapes.text(data.get("user"))
    if user_id:
        author = await port.member(UserRef(where, user_id)) or Member(
            UserRef(where, user_id), "member"
        )
    else:
        bot_id = shapes.text(data.get("bot_id")) or "bot"
        author = Member(UserRef(where, bot_id), "bot", is_bot=True)
    thread_ts = shapes.text(data.get("thread_ts"))
    in_thread = bool(thread_ts) and thread_ts != ts
    channel = ChannelRef(where, channel_id, thread_ts if in_thread else None)
    parent = shapes.text(data.get("parent_user_id"))
    return MessagePosted(
        community=where,
        at=at,
        message=MessageRef(channel, ts),
        author=author,
        text=unescape(str(data.get("text", ""))),
        in_thread=in_thread,
        reply_to=MessageRef(channel, thread_ts) if in_thread else None,
        reply_author=UserRef(where, parent) if in_thread and parent else None,
        attachments=len(shapes.objs(data.get("files"))),
        mentions=frozenset(UserRef(where, u) for u in mentioned_users(str(data.get("text", "")))),
    )


def reactions_of(posted: MessagePosted, data: dict[str, Any]) -> list[ReactionAdded]:
    """Who reacted to a message and with what, as history lists them (Slack may list fewer
    people than its count on a popular reaction). Slack doesn't say when: they count at the
    message's time."""
    where = posted.community
    return [
        ReactionAdded(
            community=where,
            at=posted.at,
            message=posted.message,
            user=UserRef(where, str(user)),
            emoji=str(reaction.get("name", "")),
        )
        for reaction in data.get("reactions") or []
        for user in reaction.get("users") or []
    ]


async def _member_channels(port: SlackPort) -> list[dict[str, Any]]:
    """Public and private channels the app is a member of, as conversations.list gives them."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = await port.client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=PAGE, cursor=cursor
        )
        found.extend(c for c in response.get("channels") or [] if c.get("is_member"))
        cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return found


async def readable_channels(port: SlackPort, where: CommunityRef) -> list[ChannelRef]:
    """Public and private channels the app is a member of."""
    return [ChannelRef(where, str(c["id"])) for c in await _member_channels(port)]


async def channel_names(port: SlackPort) -> dict[str, str]:
    """Channel id -> name for the channels the app is a member of."""
    return {str(c["id"]): str(c.get("name") or c["id"]) for c in await _member_channels(port)}


async def _replies(port: SlackPort, channel: str, root: str, after: str | None) -> list[Any]:
    """Every reply of a thread after ``after``, page by page (the root left out)."""
    found: list[Any] = []
    cursor = ""
    while True:
        page = await port.client.conversations_replies(
            channel=channel, ts=root, oldest=after or "0", limit=PAGE, cursor=cursor or None
        )
        found.extend(m for m in page.get("messages") or [] if m.get("ts") != root)
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return found


async def fetch_history(
    port: SlackPort, channel: ChannelRef, after: str | None, limit: int
) -> list[MessagePosted | ReactionAdded]:
    """The first ``limit`` messages after ``after`` (a ts), thread replies included, oldest first,
    each followed by its reactions.

    Every page after ``after`` is read before any is kept: Slack pages newest first (from
    ``latest``, now), so stopping at ``limit`` messages would keep the newest ones and skip
    the messages just after ``after`` for good (the caller goes on from the last one returned).
    """
    where = channel.community
    raw: list[dict[str, Any]] = []
    cursor = ""
    while True:
        try:
            # ``oldest`` is exclusive: the cursor's own message is not returned. A channel with
            # nothing after it answers an empty page (``messages: []``).
            response = await port.client.conversations_history(
                channel=channel.id, oldest=after or "0", limit=PAGE, cursor=cursor or None
            )
        except SlackApiError as exc:
            if slack_error(exc) in ("not_in_channel", "channel_not_found"):
                return []
            raise
        raw.extend(m for m in response.get("messages") or [] if m.get("ts") != after)
        cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            break
    first = sorted(raw, key=lambda m: float(m["ts"]))[:limit]
    replies: list[dict[str, Any]] = []
    for data in first:
        if data.get("reply_count"):
            replies.extend(await _replies(port, channel.id, str(data["ts"]), after))
    found: list[MessagePosted | ReactionAdded] = []
    for data in sorted([*first, *replies], key=lambda m: float(m["ts"]))[:limit]:
        posted = await to_posted(port, where, channel.id, data)
        if posted is not None:
            found.append(posted)
            found.extend(reactions_of(posted, data))
    return found
