"""discord.py objects to core values, and back to ids."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.ids import ChannelRef, CommunityRef, MessageRef, RoleRef, UserRef
from bot.core.members import Level, Member

_COMMUNITIES: dict[int, CommunityRef] = {}


def community(guild_id: int) -> CommunityRef:
    """The community of a guild (one shared value per guild: every event needs it)."""
    found = _COMMUNITIES.get(guild_id)
    if found is None:
        found = _COMMUNITIES[guild_id] = CommunityRef("discord", str(guild_id))
    return found


def level_of(member: discord.Member | discord.User) -> Level:
    """Steward's level from Discord permissions: owner, admin (manage server), moderator."""
    if not isinstance(member, discord.Member):
        return Level.MEMBER
    if member.guild.owner_id == member.id:
        return Level.OWNER
    perms = member.guild_permissions
    if perms.administrator or perms.manage_guild:
        return Level.ADMIN
    if perms.moderate_members or perms.kick_members or perms.ban_members or perms.manage_messages:
        return Level.MOD
    return Level.MEMBER


def to_member(member: discord.Member | discord.User, guild_id: int) -> Member:
    """A core Member snapshot of a discord.py member."""
    ref = UserRef(community(guild_id), str(member.id))
    roles: frozenset[RoleRef] = frozenset()
    joined = None
    top: int | None = None
    if isinstance(member, discord.Member):
        roles = frozenset(
            RoleRef(ref.community, str(r.id)) for r in member.roles if not r.is_default()
        )
        joined = member.joined_at
        top = member.top_role.position
    return Member(
        ref=ref,
        display_name=member.display_name,
        level=level_of(member),
        is_bot=member.bot,
        joined_at=joined,
        roles=roles,
        top_role=top,
    )


def channel_ref(guild_id: int, channel_id: int) -> ChannelRef:
    """A channel (or thread: a Discord thread is its own channel)."""
    return ChannelRef(community(guild_id), str(channel_id))


def message_ref(guild_id: int, channel_id: int, message_id: int) -> MessageRef:
    """A message in a channel."""
    return MessageRef(channel_ref(guild_id, channel_id), str(message_id))


# Presses in DMs reach the bot without a guild id, so components sent outside a guild carry their
# guild in the custom_id: ``steward@{guild in base 36}:{feature}:{action}:{value}``. Guild
# messages keep the neutral ``steward:{feature}:{action}:{value}``; the scope never leaves this
# adapter (the core only ever sees the neutral id).
MAX_CUSTOM_ID = 100
_SCOPED = re.compile(r"^steward@([0-9a-z]{1,13}):(.+)$", re.DOTALL)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if number == 0:
            return out


def scope_component_id(cid: str, guild_id: int) -> str:
    """A neutral component id that also names its guild, for messages sent outside it (DMs)."""
    prefix, sep, rest = cid.partition(":")
    if prefix != "steward" or not sep or guild_id <= 0:
        raise ValueError(f"not a Steward component id: {cid!r}")
    scoped = f"steward@{_base36(guild_id)}:{rest}"
    if len(scoped) > MAX_CUSTOM_ID:
        raise ValueError(
            f"component ids are limited to {MAX_CUSTOM_ID} characters (with the guild)"
        )
    return scoped


def unscope_component_id(cid: str) -> tuple[int | None, str]:
    """(guild id, neutral id) of a scoped id; (None, ``cid``) for any other id."""
    found = _SCOPED.match(cid)
    if found is None:
        return None, cid
    return int(found.group(1), 36), f"steward:{found.group(2)}"


def form_fields(data: dict[str, Any]) -> dict[str, str]:
    """A submitted form's fields by their custom_id (the interaction's raw data): text inputs in
    action rows, or in labels (``component``, one each); anything of another shape skipped."""
    fields: dict[str, str] = {}
    rows = data.get("components")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        items = row.get("components")
        inner = row.get("component")
        for item in [*(items if isinstance(items, list) else []), inner]:
            if isinstance(item, dict) and isinstance(item.get("custom_id"), str):
                value = item.get("value")
                fields[item["custom_id"]] = value if isinstance(value, str) else ""
    return fields


def picked(data: dict[str, Any]) -> tuple[str, ...]:
    """A select's picks (the interaction's raw data); anything but a list of texts is none."""
    values = data.get("values")
    return tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()
