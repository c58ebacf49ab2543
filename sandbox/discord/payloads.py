"""The one place that knows Discord's JSON shapes for the fake's objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ids import now_iso
from .permissions import channel_permissions
from .state import (
    DM,
    FORUMS,
    JSON,
    PRIVATE_THREAD,
    Channel,
    Guild,
    Member,
    Message,
    Role,
    User,
    World,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


def user(u: User) -> JSON:
    """Return a user object."""
    return {
        "id": u.id,
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "bot": u.bot,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }


def me(u: User) -> JSON:
    """Return the bot's own user object (GET /users/@me)."""
    return {**user(u), "verified": True, "mfa_enabled": False, "locale": "en-US"}


def role(r: Role) -> JSON:
    """Return a role object."""
    return {
        "id": r.id,
        "name": r.name,
        "permissions": str(r.permissions),
        "position": r.position,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "managed": r.managed,
        "mentionable": r.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def partial_member(m: Member) -> JSON:
    """Return a member object without ``user`` (as in MESSAGE_CREATE.member)."""
    return {
        "roles": list(m.roles),
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": m.joined_at,
        "premium_since": None,
        "communication_disabled_until": m.communication_disabled_until,
        "pending": m.pending,
        "flags": m.flags,
        "deaf": False,
        "mute": False,
    }


def member(world: World, m: Member) -> JSON:
    """Return a full member object with ``user``."""
    return {**partial_member(m), "user": user(world.users[m.user_id])}


def overwrite(ow: Any) -> JSON:
    """Return a permission overwrite object."""
    return {"id": ow.id, "type": ow.type, "allow": str(ow.allow), "deny": str(ow.deny)}


def channel(world: World, c: Channel, *, with_guild_id: bool = True) -> JSON:
    """Return a channel, thread or DM channel object."""
    if c.type == DM:
        assert c.recipient_id is not None
        return {
            "id": c.id,
            "type": DM,
            "last_message_id": c.last_message_id,
            "flags": 0,
            "recipients": [user(world.users[c.recipient_id])],
        }
    out: JSON = {
        "id": c.id,
        "type": c.type,
        "name": c.name or "",
        "position": c.position,
        "flags": c.flags,
        "parent_id": c.parent_id,
        "last_message_id": c.last_message_id,
        "rate_limit_per_user": 0,
    }
    if with_guild_id and c.guild_id:
        out["guild_id"] = c.guild_id
    if c.is_thread:
        out.update(
            owner_id=c.owner_id,
            message_count=c.message_count,
            member_count=len(c.thread_members),
            total_message_sent=c.message_count,
            thread_metadata={
                "archived": c.archived,
                "locked": c.locked,
                "auto_archive_duration": c.auto_archive_duration,
                "archive_timestamp": c.created_at,
                "create_timestamp": c.created_at,
                **({"invitable": c.invitable} if c.type == PRIVATE_THREAD else {}),
            },
        )
        parent = world.channels.get(c.parent_id or "")
        if parent is not None and parent.type in FORUMS:
            out["applied_tags"] = list(c.applied_tags)
    else:
        out.update(
            permission_overwrites=[overwrite(ow) for ow in c.overwrites],
            topic=c.topic,
            nsfw=False,
        )
        if c.type in FORUMS:
            out.update(
                available_tags=[dict(t) for t in c.available_tags],
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
    return out


def guild_create(world: World, g: Guild, bot_id: str, member_ids: Iterable[str]) -> JSON:
    """Return the GUILD_CREATE payload (``members`` limited to ``member_ids``)."""
    channels = [
        channel(world, c, with_guild_id=False) for c in g.channels.values() if not c.is_thread
    ]
    threads = [channel(world, c) for c in g.channels.values() if c.is_thread and not c.archived]
    return {
        "id": g.id,
        "name": g.name,
        "owner_id": g.owner_id,
        "icon": None,
        "splash": None,
        "banner": None,
        "description": None,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [role(r) for r in g.roles.values()],
        "channels": channels,
        "threads": threads,
        "members": [member(world, g.members[u]) for u in member_ids if u in g.members],
        "member_count": len(g.members),
        "large": len(g.members) > 250,
        "unavailable": False,
        "joined_at": g.joined_at,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
    }


def message(
    world: World, m: Message, *, with_member: bool = False, depth: int = 0, nonce: bool = False
) -> JSON:
    """Return a message object; ``with_member`` adds gateway-only ``guild_id``/``member`` keys.

    ``nonce``: only the Create Message answer and its MESSAGE_CREATE carry the nonce; Discord
    keeps none with the message, so a fetched message has none."""
    guild = world.guilds.get(m.guild_id) if m.guild_id else None
    mentions: list[JSON] = []
    for uid in m.mentions:
        entry = user(world.users[uid])
        if with_member and guild is not None and uid in guild.members:
            entry["member"] = partial_member(guild.members[uid])
        mentions.append(entry)
    out: JSON = {
        "id": m.id,
        "channel_id": m.channel_id,
        "author": dict(m.author),
        "content": m.content,
        "timestamp": m.timestamp,
        "edited_timestamp": m.edited_timestamp,
        "tts": m.tts,
        "mention_everyone": m.mention_everyone,
        "mentions": mentions,
        "mention_roles": list(m.mention_roles),
        "attachments": list(m.attachments),
        "embeds": list(m.embeds),
        "components": list(m.components),
        "reactions": [
            {
                "emoji": r.emoji,
                "count": len(r.users),
                "count_details": {"burst": 0, "normal": len(r.users)},
                "me": False,
                "me_burst": False,
                "burst_colors": [],
            }
            for r in m.reactions
            if r.users
        ],
        "pinned": m.pinned,
        "type": m.type,
        "flags": m.flags,
    }
    if nonce and m.nonce is not None:
        out["nonce"] = m.nonce
    if m.webhook_id:
        out["webhook_id"] = m.webhook_id
    if m.application_id:
        out["application_id"] = m.application_id
    if m.interaction_metadata:
        out["interaction_metadata"] = m.interaction_metadata
    if m.reference:
        out["message_reference"] = dict(m.reference)
        ref = world.messages.get(str(m.reference.get("message_id")))
        out["referenced_message"] = (
            message(world, ref, with_member=with_member, depth=depth + 1)
            if ref is not None and not ref.deleted and depth == 0
            else None
        )
    if m.thread_id and m.thread_id in world.channels:
        out["thread"] = channel(world, world.channels[m.thread_id])
    if with_member and guild is not None:
        out["guild_id"] = guild.id
        if m.author_id in guild.members and not m.webhook_id:
            out["member"] = partial_member(guild.members[m.author_id])
    return out


def resolved_channel(world: World, c: Channel, invoker_id: str) -> JSON:
    """Return a channel as it appears in interaction ``resolved`` data (with permissions)."""
    out = channel(world, c)
    guild = world.guild_of(c)
    out["permissions"] = str(channel_permissions(guild, c, invoker_id)) if guild else "0"
    return out


def reaction_event(world: World, m: Message, user_id: str, emoji: JSON, *, add: bool) -> JSON:
    """Return a MESSAGE_REACTION_ADD/REMOVE payload."""
    out: JSON = {
        "user_id": user_id,
        "channel_id": m.channel_id,
        "message_id": m.id,
        "emoji": emoji,
        "type": 0,
        "burst": False,
    }
    if m.guild_id:
        out["guild_id"] = m.guild_id
        guild = world.guilds[m.guild_id]
        if add and user_id in guild.members:
            out["member"] = member(world, guild.members[user_id])
    if add:
        out["message_author_id"] = m.author_id
        out["burst_colors"] = []
    return out


def timestamp() -> str:
    """Return the current time as Discord formats it."""
    return now_iso()
