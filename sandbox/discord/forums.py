"""Forum and media channels: a post is a thread opened with its first message, with tags.

As Discord does it (Create Thread, "in a forum or media channel"): Send Messages in the forum
lets one open posts; the post needs a name (1-100) and a message (the usual message rules); it
carries at most 5 of the forum's tags, by id, a moderated tag only from someone with Manage
Threads, and at least one when the forum requires a tag; a media channel's post needs a file.
The first message has the thread's id. Nothing is posted in the forum itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import payloads
from .permissions import Permission
from .rest import Call, Reply, RestError, invalid_form
from .routes_common import (
    create_message,
    message_json,
    require_in_channel,
    validate_message_body,
)
from .state import MEDIA, PUBLIC_THREAD, REQUIRE_TAG, Channel

if TYPE_CHECKING:
    from .server import FakeDiscord

MAX_APPLIED_TAGS = 5
TAG_REQUIRED = (400, 40067, "A tag is required to create a forum post in this channel")


def open_post(fake: FakeDiscord, call: Call, forum: Channel) -> Reply:
    """POST /channels/{forum}/threads: a new post, its first message inside it."""
    require_in_channel(fake, forum, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    body = call.json
    name = str(body.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise invalid_form("name", "Must be between 1 and 100 in length.")
    message = body.get("message")
    if not isinstance(message, dict):
        raise invalid_form("message", "This field is required", "BASE_TYPE_REQUIRED")
    validate_message_body(message, files=len(call.files))  # before anything is made
    tags = [str(t) for t in body.get("applied_tags") or []]
    if len(tags) > MAX_APPLIED_TAGS:
        raise invalid_form("applied_tags", "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    offered = {str(t["id"]): t for t in forum.available_tags}
    for index, tag in enumerate(tags):
        if tag not in offered:
            raise invalid_form(f"applied_tags.{index}", "Unknown tag", "UNKNOWN_TAG")
    if any(offered[t]["moderated"] for t in tags):
        require_in_channel(fake, forum, Permission.MANAGE_THREADS)
    if forum.flags & REQUIRE_TAG and not tags:
        raise RestError(*TAG_REQUIRED)
    if forum.type == MEDIA and not call.files:
        raise invalid_form("message.attachments", "Media channel posts need an attachment.")
    guild = fake.world.guild_of(forum)
    thread = fake.world.add_channel(
        guild,
        name,
        PUBLIC_THREAD,
        parent_id=forum.id,
        owner_id=fake.bot.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
        applied_tags=list(dict.fromkeys(tags)),
    )
    thread.thread_members.add(fake.bot.id)
    fake.dispatch("THREAD_CREATE", {**payloads.channel(fake.world, thread), "newly_created": True})
    first = create_message(fake, thread, message, call.files, message_id=thread.id)
    forum.last_message_id = thread.id
    return Reply(
        201, {**payloads.channel(fake.world, thread), "message": message_json(fake, first)}
    )
