"""Idempotency keys and ordering of platform messages (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import MessagePosted, MessageRef

DISCORD_EPOCH_MS = 1_420_070_400_000


def message_key(ref: MessageRef) -> str:
    """A message's key: Discord ids are global snowflakes; a Slack ts is unique per channel."""
    if ref.channel.community.platform == "discord":
        return ref.id
    return f"{ref.channel.id}:{ref.id}"


def target_key(event: MessagePosted) -> str | None:
    """The message a message answers: the one it replies to, or the root of its thread.

    A Discord thread started from a message has that message's id; on Slack the adapter sets
    ``reply_to`` to the thread's root.
    """
    if event.reply_to is not None:
        return message_key(event.reply_to)
    if event.in_thread and event.community.platform == "discord":
        return event.message.channel.id
    return None


def sequence(message_id: str) -> int:
    """A number that orders messages of one channel: the snowflake, or the ts in microseconds."""
    whole, _, fraction = message_id.partition(".")
    try:
        return int(whole) * 1_000_000 + int(fraction.ljust(6, "0")[:6]) if fraction else int(whole)
    except ValueError:
        return 0


def link(
    platform: str, community_id: str, channel_id: str, message_id: str, thread: str | None = None
) -> str:
    """A link that opens the message in the client (inside its thread, if it is in one)."""
    if platform == "discord":
        return f"https://discord.com/channels/{community_id}/{thread or channel_id}/{message_id}"
    found = f"https://slack.com/archives/{channel_id}/p{message_id.replace('.', '')}"
    return f"{found}?thread_ts={thread}&cid={channel_id}" if thread else found


def position_at(platform: str, at: datetime) -> str:
    """A message id placed at a time, for reading history "after" it.

    The smallest Discord snowflake of that millisecond, or a Slack ts of that instant.
    """
    if platform == "discord":
        ms = int(at.timestamp() * 1000) - DISCORD_EPOCH_MS
        return str(max(ms, 0) << 22)
    return f"{max(at.timestamp(), 0.0):.6f}"


def time_of(platform: str, message_id: str) -> datetime:
    """When a message was posted, from its id (a snowflake or a Slack ts)."""
    if platform == "discord":
        return datetime.fromtimestamp(((int(message_id) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)
    return datetime.fromtimestamp(float(message_id), UTC)
