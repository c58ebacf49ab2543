"""Helpers shared by the REST route modules: lookups, permission checks, message creation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import payloads
from .mentions import compute_pings, validate_allowed_mentions
from .permissions import Permission, channel_permissions, has
from .rest import RestError, invalid_form
from .state import DM, JSON, Channel, Guild, Member, Message

if TYPE_CHECKING:
    from .server import FakeDiscord

NONCE_WINDOW = 180.0
"""Seconds a nonce is remembered ("a few minutes", Discord's Create Message)."""
MESSAGE_FIELDS = ("content", "embeds", "components", "flags", "attachments", "allowed_mentions")


def channel_or_404(fake: FakeDiscord, channel_id: str) -> Channel:
    """Return the channel or raise 10003 Unknown Channel."""
    channel = fake.world.channels.get(channel_id)
    if channel is None:
        raise RestError(404, 10003, "Unknown Channel")
    return channel


def guild_or_404(fake: FakeDiscord, guild_id: str) -> Guild:
    """Return the guild the bot is in, or raise 10004 Unknown Guild."""
    guild = fake.world.guilds.get(guild_id)
    if guild is None or fake.bot.id not in guild.members:
        raise RestError(404, 10004, "Unknown Guild")
    return guild


def member_or_404(guild: Guild, user_id: str) -> Member:
    """Return the member or raise 10007 Unknown Member."""
    member = guild.members.get(user_id)
    if member is None:
        raise RestError(404, 10007, "Unknown Member")
    return member


def message_or_404(fake: FakeDiscord, channel: Channel, message_id: str) -> Message:
    """Return a public message of the channel or raise 10008 Unknown Message."""
    msg = fake.world.messages.get(message_id)
    if msg is None or msg.deleted or msg.channel_id != channel.id or msg.visible_to is not None:
        raise RestError(404, 10008, "Unknown Message")
    return msg


def missing_permissions() -> RestError:
    """Return 403/50013."""
    return RestError(403, 50013, "Missing Permissions")


def require_in_channel(fake: FakeDiscord, channel: Channel, needed: int) -> None:
    """Raise 50001 without VIEW_CHANNEL, 50013 without the other bits (DMs: nothing needed)."""
    guild = fake.world.guild_of(channel)
    if guild is None:
        return
    perms = channel_permissions(guild, channel, fake.bot.id)
    if not perms & Permission.VIEW_CHANNEL:
        raise RestError(403, 50001, "Missing Access")
    if not has(perms, needed):
        raise missing_permissions()


def require_in_guild(fake: FakeDiscord, guild: Guild, needed: int) -> None:
    """Raise 50013 unless the bot has the guild-level permissions."""
    from .permissions import base_permissions

    if not has(base_permissions(guild, fake.bot.id), needed):
        raise missing_permissions()


def validate_message_body(body: JSON, *, files: int = 0, partial: bool = False) -> None:
    """Apply Discord's message limits; raise 50035 (or 50006 for an empty message)."""
    content = body.get("content")
    if content is not None and len(content) > 2000:
        raise invalid_form("content", "Must be 2000 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        raise invalid_form("embeds", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    total = sum(
        len(e.get("title") or "")
        + len(e.get("description") or "")
        + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in e.get("fields") or [])
        for e in embeds
    )
    if total > 6000:
        raise invalid_form(
            "embeds", "Embed size exceeds maximum size of 6000", "MAX_EMBED_SIZE_EXCEEDED"
        )
    if len(body.get("components") or []) > 5 and not (body.get("flags") or 0) & 32768:
        raise invalid_form("components", "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    am = body.get("allowed_mentions")
    if isinstance(am, dict):
        for listed in ("users", "roles"):  # Discord pings at most 100 of each in one message
            if len(am.get(listed) or ()) > 100:
                raise invalid_form(
                    "allowed_mentions",
                    f"{listed}: Must be 100 or fewer in length.",
                    "BASE_TYPE_MAX_LENGTH",
                )
        problem = validate_allowed_mentions(am)
        if problem:
            raise invalid_form(
                "allowed_mentions", problem, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"
            )
    if not partial and not (
        content
        or embeds
        or body.get("components")
        or files
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise RestError(400, 50006, "Cannot send an empty message")


def attachments_from(fake: FakeDiscord, body: JSON, files: list[JSON]) -> list[JSON]:
    """Turn uploaded files into attachment objects served by the fake."""
    out = []
    for i, f in enumerate(files):
        meta: JSON = next(
            (a for a in body.get("attachments") or [] if str(a.get("id")) == str(i)), {}
        )
        filename = meta.get("filename") or f.get("filename") or f"file{i}"
        out.append(fake.store_attachment(filename, f["data"]))
    return out


def create_message(
    fake: FakeDiscord,
    channel: Channel,
    body: JSON,
    files: list[JSON],
    *,
    author: JSON | None = None,
    type_: int = 0,
    extra_flags: int = 0,
    visible_to: str | None = None,
    webhook_id: str | None = None,
    application_id: str | None = None,
    interaction_metadata: JSON | None = None,
    author_id_for_perms: str | None = None,
    allow_empty: bool = False,
    message_id: str | None = None,
) -> Message:
    """Create, store and dispatch a message the bot (or a webhook) sends (``message_id``: the
    id it must have, as a forum post's first message has its thread's)."""
    validate_message_body(body, files=len(files), partial=allow_empty)
    if channel.type == DM and channel.recipient_id is not None:
        recipient = fake.world.users[channel.recipient_id]
        # Discord lets a bot DM only people it shares a server with (a kicked or banned
        # member is out of reach), and only when their DMs are open.
        shared = any(
            recipient.id in g.members and fake.bot.id in g.members
            for g in fake.world.guilds.values()
        )
        if (not recipient.dms_open or not shared) and visible_to is None:
            raise RestError(403, 50007, "Cannot send messages to this user")
    ref_msg: Message | None = None
    ref = body.get("message_reference")
    if isinstance(ref, dict) and ref.get("message_id"):
        ref_msg = fake.world.messages.get(str(ref["message_id"]))
        if ref_msg is None or ref_msg.deleted:
            if ref.get("fail_if_not_exists", True):
                raise invalid_form(
                    "message_reference", "Unknown message", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
                )
            ref_msg = None
    author = author or payloads.user(fake.bot)
    nonce = body.get("nonce")
    nonce = None if nonce is None else str(nonce)
    if nonce is not None and body.get("enforce_nonce"):
        earlier = nonce_message(fake, str(author["id"]), nonce)
        if earlier is not None:
            return earlier
    pings = compute_pings(
        fake.world,
        content=body.get("content") or "",
        author_id=author_id_for_perms or str(author["id"]),
        channel=channel,
        allowed_mentions=body.get("allowed_mentions"),
        replied_to=ref_msg,
    )
    flags = int(body.get("flags") or 0) | extra_flags
    msg = Message(
        id=message_id or fake.world.new_id(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=body.get("content") or "",
        embeds=list(body.get("embeds") or []),
        components=normalize_components(list(body.get("components") or [])),
        attachments=attachments_from(fake, body, files),
        flags=flags,
        type=19 if ref_msg is not None and type_ == 0 else type_,
        mentions=pings.users,
        mention_roles=pings.roles,
        mention_everyone=pings.everyone,
        reference=(
            {"type": 0, "message_id": ref_msg.id, "channel_id": ref_msg.channel_id}
            | ({"guild_id": ref_msg.guild_id} if ref_msg.guild_id else {})
            if ref_msg
            else None
        ),
        webhook_id=webhook_id,
        application_id=application_id,
        interaction_metadata=interaction_metadata,
        visible_to=visible_to,
        tts=bool(body.get("tts")),
        nonce=nonce,
    )
    fake.world.add_message(msg)
    if nonce is not None:
        fake.world.nonces[(msg.author_id, nonce)] = (time.monotonic(), msg.id)
    fake.message_event(msg)
    return msg


def nonce_message(fake: FakeDiscord, author_id: str, nonce: str) -> Message | None:
    """The message this author created with this nonce in the last few minutes, if any.

    Discord: with ``enforce_nonce``, "the nonce will be checked for uniqueness in the past few
    minutes. If another message was created by the same author with the same nonce, that
    message will be returned and no new message will be created" (Create Message). The fake
    keeps a nonce for ``NONCE_WINDOW`` seconds.
    """
    found = fake.world.nonces.get((author_id, nonce))
    if found is None or time.monotonic() - found[0] > NONCE_WINDOW:
        return None
    return fake.world.messages.get(found[1])


def edit_message(fake: FakeDiscord, msg: Message, body: JSON, files: list[JSON]) -> Message:
    """Apply a message edit (content/embeds/components/flags/attachments) and dispatch it."""
    validate_message_body(body, files=len(files), partial=True)
    if "content" in body:
        msg.content = body["content"] or ""
    if "embeds" in body:
        msg.embeds = list(body["embeds"] or [])
    if "components" in body:
        msg.components = normalize_components(list(body["components"] or []))
    if "flags" in body and body["flags"] is not None:
        keep = msg.flags & (64 | 32)
        msg.flags = (int(body["flags"]) & ~128) | keep
    if "attachments" in body or files:
        kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
        msg.attachments = [a for a in msg.attachments if a["id"] in kept_ids]
        msg.attachments += attachments_from(fake, body, files)
    if "content" in body or "allowed_mentions" in body:
        channel = fake.world.channels[msg.channel_id]
        pings = compute_pings(
            fake.world,
            content=msg.content,
            author_id=msg.author_id,
            channel=channel,
            allowed_mentions=body.get("allowed_mentions"),
        )
        msg.mentions, msg.mention_roles, msg.mention_everyone = (
            pings.users,
            pings.roles,
            pings.everyone,
        )
    msg.edited_timestamp = payloads.timestamp()
    fake.message_event(msg, "MESSAGE_UPDATE")
    return msg


def message_json(fake: FakeDiscord, msg: Message, *, nonce: bool = False) -> JSON:
    """Return the REST representation of a message (``nonce``: the Create Message answer)."""
    return payloads.message(fake.world, msg, nonce=nonce)


def as_int(value: Any, default: int = 0) -> int:
    """Return an int from a snowflake-ish value."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def normalize_components(components: list[JSON]) -> list[JSON]:
    """Return components as Discord stores them: numeric ids assigned, defaults filled, no nulls."""
    used: set[int] = set()

    def collect(items: list[JSON]) -> None:
        for item in items:
            if isinstance(item.get("id"), int):
                used.add(item["id"])
            collect(item.get("components") or [])

    collect(components)
    counter = iter(i for i in range(1, 10_000) if i not in used)

    def norm(item: JSON) -> JSON:
        out = {k: v for k, v in item.items() if v is not None}
        if not isinstance(out.get("id"), int):
            out["id"] = next(counter)
        if out.get("type") in (3, 5, 6, 7, 8):
            out.setdefault("min_values", 1)
            out.setdefault("max_values", 1)
        if "components" in out:
            out["components"] = [norm(c) for c in out["components"]]
        for key in ("component", "accessory"):
            if isinstance(out.get(key), dict):
                out[key] = norm(out[key])
        return out

    return [norm(c) for c in components]
