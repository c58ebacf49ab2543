"""Finding a post an earlier, unrecorded try may have made (the outbox's "look first").

Discord's ``nonce`` with ``enforce_nonce`` answers a repeated post with the message already made,
but only for "the past few minutes", and Discord keeps no nonce on a message (a fetched message
has none). A try that began longer ago (a process killed again and again, a long outage) is
looked for instead: among the messages Steward itself posted in the channel since the delivery
was queued, one with the same text and embed is the earlier try. The channel's messages are
read once for many such tries (a crash leaves a batch of them per channel), and read again
after ``FRESH`` seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import discord

FRESH = 30.0
"""Seconds a channel's messages read for a look are reused."""
LOOK_BACK = 500
"""At most this many messages since the delivery was queued are read."""


def _same(found: discord.Message, rendered: dict[str, Any]) -> bool:
    """Whether a posted message is what ``rendered`` (``render``'s keyword arguments) posts."""
    if (found.content or "") != (rendered.get("content") or ""):
        return False
    embed: discord.Embed | None = rendered.get("embed")
    if embed is None:
        return True  # link previews may add embeds of Discord's own
    return any(e.title == embed.title and e.description == embed.description for e in found.embeds)


class Recent:
    """Steward's own recent messages per channel, read for looks (one per port)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        # channel id -> (read at (monotonic), read since (snowflake), Steward's messages)
        self._read: dict[int, tuple[float, int, list[discord.Message]]] = {}

    async def find(
        self, channel: discord.abc.Messageable, rendered: dict[str, Any], since: datetime
    ) -> int | None:
        """The id of Steward's message in ``channel`` posted since ``since`` that is this post."""
        me = self.client.user
        if me is None:
            return None
        after = discord.utils.time_snowflake(
            since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        )
        channel_id = int(getattr(channel, "id", 0))
        held = self._read.get(channel_id)
        now = time.monotonic()
        if held is None or now - held[0] > FRESH or held[1] > after:
            try:
                mine = [
                    m
                    async for m in channel.history(
                        limit=LOOK_BACK, after=discord.Object(after), oldest_first=True
                    )
                    if m.author.id == me.id
                ]
            except (discord.Forbidden, discord.NotFound):
                return None  # no history to read: the nonce is all there is; the post says why
            if len(self._read) > 200:
                self._read = {k: v for k, v in self._read.items() if now - v[0] <= FRESH}
            held = self._read[channel_id] = (now, after, mine)
        for message in held[2]:
            if message.id > after and _same(message, rendered):
                return message.id
        return None
