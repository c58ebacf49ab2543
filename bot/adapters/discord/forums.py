"""Forum channels: a message there opens a post (a thread whose first message it is), with tags.

Discord creates a forum post with ``POST /channels/{forum}/threads`` and a ``message``; that
request takes no ``nonce``, so a post whose first attempt may have gone out is looked for among
the forum's recent posts (Steward's own, by name) before it is made again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.core.errors import UserError
from bot.core.port import TAGS_REFUSED, Forum

MAX_TAGS = 5
"""Discord's limit of tags on one post."""
TAG_REQUIRED, INVALID_FORM = 40067, 50035
"""Discord's codes for "A tag is required to create a forum post in this channel" and "Invalid
Form Body" (for a tag: "Unknown tag")."""
RESEND_WINDOW = timedelta(minutes=30)
"""How far back an earlier attempt's post is looked for."""


def forum_of(channel: object) -> Forum | None:
    """A forum or media channel's tags and rules (None for any other channel)."""
    if not isinstance(channel, discord.ForumChannel):
        return None
    return Forum(
        tags=tuple(t.name for t in channel.available_tags),
        requires_tag=channel.flags.require_tag,
        media=channel.is_media(),
    )


def chosen_tags(forum: discord.ForumChannel, names: Sequence[str]) -> list[discord.ForumTag]:
    """The forum's tags of these names (any case), in order, at most five; names the forum no
    longer has are left out."""
    by_name = {t.name.casefold(): t for t in forum.available_tags}
    chosen: list[discord.ForumTag] = []
    for name in names:
        tag = by_name.get(name.casefold())
        if tag is not None and tag not in chosen:
            chosen.append(tag)
    return chosen[:MAX_TAGS]


def earlier_post(forum: discord.ForumChannel, name: str, me: int) -> discord.Thread | None:
    """Steward's post of this name opened in the last half hour, if discord.py has seen one."""
    since = datetime.now(UTC) - RESEND_WINDOW
    found = [
        t
        for t in forum.threads
        if t.owner_id == me and t.name == name[:100] and t.created_at and t.created_at > since
    ]
    return max(found, key=lambda t: t.id, default=None)


async def open_post(
    forum: discord.ForumChannel, rendered: dict[str, Any], name: str, tags: Sequence[str]
) -> discord.Thread:
    """Open a post: ``rendered`` (discord.py's send arguments) is its first message."""
    kwargs = {k: v for k, v in rendered.items() if k != "nonce"}
    chosen = chosen_tags(forum, tags)
    try:
        made = await forum.create_thread(name=name[:100], applied_tags=chosen, **kwargs)
    except discord.HTTPException as exc:
        why = _tags_refused(forum, chosen, exc)
        if why is not None:
            raise UserError(f"{TAGS_REFUSED}: #{forum.name} {why}.") from exc
        raise
    return made.thread


def _tags_refused(
    forum: discord.ForumChannel, chosen: Sequence[discord.ForumTag], exc: discord.HTTPException
) -> str | None:
    """Why Discord refused a post for its tags, or None when the tags were not the reason."""
    if exc.code == TAG_REQUIRED:
        return "now requires a tag on every post and none of the route's tags applied"
    if exc.code == INVALID_FORM and "applied_tags" in exc.text:
        return "no longer has one of the route's tags"
    kept = [t.name for t in chosen if t.moderated]
    if isinstance(exc, discord.Forbidden) and kept:
        allowed = forum.permissions_for(forum.guild.me)
        if allowed.send_messages and not allowed.manage_threads:
            return f"keeps the tag “{kept[0]}” for moderators, and I lack Manage Threads there"
    return None
