"""REST: channels, messages, reactions, DMs, threads and channel webhooks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from . import forums, payloads
from .ids import now_iso, snowflake_time, webhook_token
from .permissions import Permission
from .rest import Call, Reply, RestError, invalid_form, route
from .routes_common import (
    as_int,
    channel_or_404,
    create_message,
    edit_message,
    message_json,
    message_or_404,
    require_in_channel,
)
from .state import (
    ANNOUNCEMENT,
    ANNOUNCEMENT_THREAD,
    CROSSPOSTED,
    FORUMS,
    HAS_THREAD,
    JSON,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    Reaction,
    Webhook,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

SEND = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES


@route(get_channel="GET /channels/{channel_id}")
async def get_channel(fake: FakeDiscord, call: Call) -> Reply:
    """GET /channels/{c}."""
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, Permission.VIEW_CHANNEL)
    return Reply(200, payloads.channel(fake.world, channel))


@route(trigger_typing_indicator="POST /channels/{channel_id}/typing")
async def typing(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/typing."""
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, SEND)
    return Reply.empty()


@route(create_message="POST /channels/{channel_id}/messages")
async def post_message(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/messages."""
    channel = channel_or_404(fake, call.params["channel_id"])
    if channel.type in FORUMS:  # a forum holds posts (threads), never messages of its own
        raise RestError(400, 50008, "Cannot send messages in a non-text channel")
    needed = Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
    require_in_channel(fake, channel, Permission.VIEW_CHANNEL | needed)
    if call.json.get("message_reference"):
        require_in_channel(fake, channel, Permission.READ_MESSAGE_HISTORY)
    msg = create_message(fake, channel, call.json, call.files)
    return Reply(200, message_json(fake, msg, nonce=True))


@route(get_message="GET /channels/{channel_id}/messages/{message_id}")
async def get_message(fake: FakeDiscord, call: Call) -> Reply:
    """GET /channels/{c}/messages/{m}."""
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    msg = message_or_404(fake, channel, call.params["message_id"])
    return Reply(200, message_json(fake, msg))


@route(list_messages="GET /channels/{channel_id}/messages")
async def list_messages(fake: FakeDiscord, call: Call) -> Reply:
    """GET /channels/{c}/messages (newest first; before/after/around/limit)."""
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    msgs = [m for m in fake.world.messages_in(channel.id) if m.visible_to is None]
    limit = min(max(as_int(call.q("limit"), 50), 1), 100)
    before, after = call.q("before"), call.q("after")
    if before:
        msgs = [m for m in msgs if int(m.id) < int(before)]
    if after:
        msgs = [m for m in msgs if int(m.id) > int(after)]
        msgs = msgs[:limit]
    msgs = list(reversed(msgs))[:limit]
    return Reply(200, [message_json(fake, m) for m in msgs])


@route(update_message="PATCH /channels/{channel_id}/messages/{message_id}")
async def patch_message(fake: FakeDiscord, call: Call) -> Reply:
    """PATCH /channels/{c}/messages/{m}: only the author may change content."""
    channel = channel_or_404(fake, call.params["channel_id"])
    msg = message_or_404(fake, channel, call.params["message_id"])
    if msg.author_id != fake.bot.id:
        if set(call.json) - {"flags"}:
            raise RestError(403, 50005, "Cannot edit a message authored by another user")
        require_in_channel(fake, channel, Permission.MANAGE_MESSAGES)
    edit_message(fake, msg, call.json, call.files)
    return Reply(200, message_json(fake, msg))


@route(delete_message="DELETE /channels/{channel_id}/messages/{message_id}")
async def delete_message(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE /channels/{c}/messages/{m}: others' messages need MANAGE_MESSAGES."""
    channel = channel_or_404(fake, call.params["channel_id"])
    msg = message_or_404(fake, channel, call.params["message_id"])
    if msg.author_id != fake.bot.id:
        if channel.guild_id is None:
            raise RestError(403, 50003, "Cannot execute action on a DM channel")
        require_in_channel(fake, channel, Permission.MANAGE_MESSAGES)
    msg.deleted = True
    d: JSON = {"id": msg.id, "channel_id": channel.id}
    if channel.guild_id:
        d["guild_id"] = channel.guild_id
    fake.dispatch("MESSAGE_DELETE", d, dm=channel.guild_id is None)
    return Reply.empty()


BULK_DELETE_AGE = dt.timedelta(days=14)


@route(bulk_delete_messages="POST /channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/messages/bulk-delete: 2 to 100 messages, none older than two weeks,
    with MANAGE_MESSAGES; one MESSAGE_DELETE_BULK event."""
    channel = channel_or_404(fake, call.params["channel_id"])
    if channel.guild_id is None:
        raise RestError(403, 50003, "Cannot execute action on a DM channel")
    require_in_channel(fake, channel, Permission.MANAGE_MESSAGES)
    ids = [str(i) for i in (call.json.get("messages") or [])]
    if not 2 <= len(ids) <= 100:
        raise invalid_form("messages", "Must be between 2 and 100 in length.")
    now = dt.datetime.now(dt.UTC)
    if any(now - snowflake_time(i) > BULK_DELETE_AGE for i in ids):
        raise RestError(400, 50034, "You can only bulk delete messages that are under 14 days old.")
    found = [fake.world.messages.get(i) for i in ids]
    gone = [m for m in found if m is not None and m.channel_id == channel.id and not m.deleted]
    for msg in gone:
        msg.deleted = True
    body: JSON = {
        "ids": [m.id for m in gone],
        "channel_id": channel.id,
        "guild_id": channel.guild_id,
    }
    fake.dispatch("MESSAGE_DELETE_BULK", body)
    return Reply.empty()


def _emoji(raw: str) -> JSON:
    if ":" in raw:
        name, eid = raw.rsplit(":", 1)
        return {"id": eid, "name": name.lstrip("a:") or name, "animated": False}
    return {"id": None, "name": raw}


@route(
    add_my_message_reaction=(
        "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"
    ),
)
async def add_reaction(fake: FakeDiscord, call: Call) -> Reply:
    """PUT /channels/{c}/messages/{m}/reactions/{emoji}/@me."""
    channel = channel_or_404(fake, call.params["channel_id"])
    msg = message_or_404(fake, channel, call.params["message_id"])
    emoji = _emoji(call.params["emoji_name"])
    reaction = next((r for r in msg.reactions if r.emoji == emoji), None)
    needed = Permission.READ_MESSAGE_HISTORY | (0 if reaction else Permission.ADD_REACTIONS)
    require_in_channel(fake, channel, needed)
    if reaction is None:
        reaction = Reaction(emoji)
        msg.reactions.append(reaction)
    if fake.bot.id not in reaction.users:
        reaction.users.append(fake.bot.id)
        event = payloads.reaction_event(fake.world, msg, fake.bot.id, emoji, add=True)
        fake.dispatch("MESSAGE_REACTION_ADD", event, dm=msg.guild_id is None)
    return Reply.empty()


@route(
    list_message_reactions_by_emoji=(
        "GET /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}"
    ),
)
async def list_reactions(fake: FakeDiscord, call: Call) -> Reply:
    """GET /channels/{c}/messages/{m}/reactions/{emoji}: who reacted, by user id (after/limit).

    Normal reactions only: the fake has no super reactions, so ``type=1`` lists nobody.
    """
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
    msg = message_or_404(fake, channel, call.params["message_id"])
    emoji = _emoji(call.params["emoji_name"])
    reaction = next((r for r in msg.reactions if r.emoji == emoji), None)
    if reaction is None:
        raise RestError(404, 10014, "Unknown Emoji")
    if as_int(call.q("type"), 0) != 0:
        return Reply(200, [])
    limit = min(max(as_int(call.q("limit"), 25), 1), 100)
    after = as_int(call.q("after"), 0)
    ids = sorted((u for u in reaction.users if int(u) > after), key=int)[:limit]
    return Reply(200, [payloads.user(fake.world.users[u]) for u in ids])


@route(
    delete_my_message_reaction=(
        "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"
    ),
    delete_user_message_reaction=(
        "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}"
    ),
)
async def remove_reaction(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE a reaction (the bot's own, or another user's with MANAGE_MESSAGES)."""
    channel = channel_or_404(fake, call.params["channel_id"])
    msg = message_or_404(fake, channel, call.params["message_id"])
    user_id = call.params.get("user_id", fake.bot.id)
    if user_id != fake.bot.id:
        require_in_channel(fake, channel, Permission.MANAGE_MESSAGES)
    emoji = _emoji(call.params["emoji_name"])
    for r in msg.reactions:
        if r.emoji == emoji and user_id in r.users:
            r.users.remove(user_id)
            event = payloads.reaction_event(fake.world, msg, user_id, emoji, add=False)
            fake.dispatch("MESSAGE_REACTION_REMOVE", event, dm=msg.guild_id is None)
    return Reply.empty()


@route(create_dm="POST /users/@me/channels")
async def create_dm(fake: FakeDiscord, call: Call) -> Reply:
    """POST /users/@me/channels: one DM channel per user (opening never fails; sending may)."""
    rid = str(call.json.get("recipient_id", ""))
    user = fake.world.users.get(rid)
    if user is None:
        raise invalid_form("recipient_id", "Unknown user", "USER_UNKNOWN")
    return Reply(200, payloads.channel(fake.world, fake.world.dm_channel(user)))


@route(create_thread_from_message="POST /channels/{channel_id}/messages/{message_id}/threads")
async def thread_from_message(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/messages/{m}/threads: the thread id equals the message id (not in a
    thread: a forum post's first message already opens one)."""
    channel = channel_or_404(fake, call.params["channel_id"])
    if channel.is_thread or channel.type in FORUMS:
        raise RestError(400, 50024, "Cannot execute action on this channel type")
    msg = message_or_404(fake, channel, call.params["message_id"])
    require_in_channel(fake, channel, Permission.CREATE_PUBLIC_THREADS)
    if msg.thread_id:
        raise RestError(400, 160004, "A thread has already been created for this message")
    guild = fake.world.guild_of(channel)
    name = str(call.json.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise invalid_form("name", "Must be between 1 and 100 in length.")
    thread = fake.world.add_channel(
        guild,
        name,
        ANNOUNCEMENT_THREAD if channel.type == ANNOUNCEMENT else PUBLIC_THREAD,
        channel_id=msg.id,
        parent_id=channel.id,
        owner_id=fake.bot.id,
        auto_archive_duration=int(call.json.get("auto_archive_duration") or 1440),
    )
    thread.thread_members.add(fake.bot.id)
    msg.thread_id, msg.flags = thread.id, msg.flags | HAS_THREAD
    body = payloads.channel(fake.world, thread)
    fake.dispatch("THREAD_CREATE", {**body, "newly_created": True})
    fake.message_event(msg, "MESSAGE_UPDATE")
    return Reply(201, body)


@route(create_thread="POST /channels/{channel_id}/threads")
async def thread_without_message(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/threads: a thread with no starter message (type 11 or 12).

    A private thread (12) needs Create Private Threads on a text channel; only its members (and
    those with Manage Threads) see it. In a forum or media channel: a post (``forums``)."""
    channel = channel_or_404(fake, call.params["channel_id"])
    if channel.type in FORUMS:
        return forums.open_post(fake, call, channel)
    kind = int(call.json.get("type") or PRIVATE_THREAD)
    if channel.type != TEXT or kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
        raise RestError(400, 50024, "Cannot execute action on this channel type")
    needed = Permission.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else 0
    require_in_channel(fake, channel, needed or Permission.CREATE_PUBLIC_THREADS)
    guild = fake.world.guild_of(channel)
    name = str(call.json.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise invalid_form("name", "Must be between 1 and 100 in length.")
    thread = fake.world.add_channel(
        guild,
        name,
        kind,
        parent_id=channel.id,
        owner_id=fake.bot.id,
        auto_archive_duration=int(call.json.get("auto_archive_duration") or 1440),
        invitable=bool(call.json.get("invitable", True)),
    )
    thread.thread_members.add(fake.bot.id)
    body = payloads.channel(fake.world, thread)
    fake.dispatch("THREAD_CREATE", {**body, "newly_created": True})
    return Reply(201, body)


@route(add_thread_member="PUT /channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(fake: FakeDiscord, call: Call) -> Reply:
    """PUT /channels/{t}/thread-members/{u}: needs to send in the thread, which is not archived;
    the member must be in the guild. Members see THREAD_MEMBERS_UPDATE."""
    thread = channel_or_404(fake, call.params["channel_id"])
    if not thread.is_thread:
        raise RestError(400, 50024, "Cannot execute action on this channel type")
    require_in_channel(fake, thread, Permission.SEND_MESSAGES_IN_THREADS)
    if thread.archived:
        raise RestError(400, 50083, "Thread is archived")
    guild = fake.world.guild_of(thread)
    user_id = call.params["user_id"]
    if guild is None or user_id not in guild.members:
        raise RestError(404, 10013, "Unknown User")
    if user_id not in thread.thread_members:
        thread.thread_members.add(user_id)
        joined = {
            "id": thread.id,
            "user_id": user_id,
            "join_timestamp": now_iso(),
            "flags": 0,
        }
        fake.dispatch(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": thread.id,
                "guild_id": thread.guild_id,
                "member_count": len(thread.thread_members),
                "added_members": [joined],
            },
        )
    return Reply.empty()


@route(crosspost_message="POST /channels/{channel_id}/messages/{message_id}/crosspost")
async def crosspost(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/messages/{m}/crosspost: publish to the channels following this one.

    Only in an announcement channel; the author needs SEND_MESSAGES for their own message,
    MANAGE_MESSAGES for anyone else's; a message is published once."""
    channel = channel_or_404(fake, call.params["channel_id"])
    msg = message_or_404(fake, channel, call.params["message_id"])
    if channel.type != ANNOUNCEMENT:
        raise RestError(400, 50024, "Cannot execute action on this channel type")
    own = msg.author_id == fake.bot.id
    require_in_channel(
        fake, channel, SEND if own else Permission.VIEW_CHANNEL | Permission.MANAGE_MESSAGES
    )
    if msg.flags & CROSSPOSTED:
        raise RestError(400, 40033, "This message has already been crossposted.")
    msg.flags |= CROSSPOSTED
    fake.message_event(msg, "MESSAGE_UPDATE")
    return Reply(200, message_json(fake, msg))


@route(create_webhook="POST /channels/{channel_id}/webhooks")
async def create_webhook(fake: FakeDiscord, call: Call) -> Reply:
    """POST /channels/{c}/webhooks (needs MANAGE_WEBHOOKS)."""
    channel = channel_or_404(fake, call.params["channel_id"])
    require_in_channel(fake, channel, Permission.MANAGE_WEBHOOKS)
    name = str(call.json.get("name") or "")
    if not 1 <= len(name) <= 80 or "clyde" in name.lower():
        raise invalid_form("name", "Invalid webhook name")
    hook = Webhook(
        fake.world.new_id(), channel.id, channel.guild_id, name, webhook_token(), fake.bot.id
    )
    fake.world.webhooks[hook.id] = hook
    return Reply(200, _webhook_json(fake, hook))


def _webhook_json(fake: FakeDiscord, hook: Webhook) -> JSON:
    return {
        "id": hook.id,
        "type": 1,
        "channel_id": hook.channel_id,
        "guild_id": hook.guild_id,
        "name": hook.name,
        "avatar": None,
        "token": hook.token,
        "application_id": None,
        "user": payloads.user(fake.world.users[hook.creator_id]),
    }


async def execute_channel_webhook(fake: FakeDiscord, call: Call) -> Reply:
    """POST /webhooks/{id}/{token} for a channel webhook: a message with webhook_id."""
    hook = fake.world.webhooks.get(call.params["webhook_id"])
    if hook is None:
        raise RestError(404, 10015, "Unknown Webhook")
    if hook.token != call.params["webhook_token"]:
        raise RestError(401, 50027, "Invalid Webhook Token")
    channel = fake.world.channels[hook.channel_id]
    if call.q("thread_id"):
        channel = channel_or_404(fake, call.q("thread_id") or "")
    author: JSON = {
        "id": hook.id,
        "username": call.json.get("username") or hook.name,
        "discriminator": "0000",
        "global_name": None,
        "avatar": None,
        "bot": True,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }
    msg = create_message(fake, channel, call.json, call.files, author=author, webhook_id=hook.id)
    return Reply(200, message_json(fake, msg)) if call.flag("wait") else Reply.empty()
