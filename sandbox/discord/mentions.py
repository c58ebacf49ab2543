"""Who a message pings: content parsing filtered by allowed_mentions, as Discord does it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .permissions import Permission, channel_permissions
from .state import Channel, Guild, Message, World

_USER = re.compile(r"<@!?(\d{15,21})>")
_ROLE = re.compile(r"<@&(\d{15,21})>")
_EVERYONE = re.compile(r"@(everyone|here)")


@dataclass
class Pings:
    """The computed ``mentions``/``mention_roles``/``mention_everyone`` of a message."""

    users: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    everyone: bool = False


def compute_pings(
    world: World,
    *,
    content: str,
    author_id: str,
    channel: Channel,
    allowed_mentions: dict[str, Any] | None,
    replied_to: Message | None = None,
) -> Pings:
    """Return who is pinged.

    Rules (Discord's): without ``allowed_mentions`` everything in the content is parsed and a reply
    pings the replied-to author. With it, ``parse`` lists the kinds parsed wholesale; ``users`` and
    ``roles`` whitelist specific ids that must also appear in the content; ``replied_user``
    (default false) decides the reply ping. @everyone/@here need MENTION_EVERYONE, and so do roles
    that are not mentionable.
    """
    guild = world.guild_of(channel)
    am = allowed_mentions
    parse = set(am.get("parse", [])) if am is not None else {"users", "roles", "everyone"}
    allowed_users = {str(u) for u in (am or {}).get("users", [])}
    allowed_roles = {str(r) for r in (am or {}).get("roles", [])}
    can_mention_everyone = _can_mention_everyone(guild, channel, author_id)

    pings = Pings()
    for uid in dict.fromkeys(_USER.findall(content)):
        if uid in world.users and ("users" in parse or uid in allowed_users):
            pings.users.append(uid)
    if guild is not None:
        for rid in dict.fromkeys(_ROLE.findall(content)):
            role = guild.roles.get(rid)
            if role is None or not ("roles" in parse or rid in allowed_roles):
                continue
            if role.mentionable or can_mention_everyone:
                pings.roles.append(rid)
        if "everyone" in parse and can_mention_everyone and _EVERYONE.search(content):
            pings.everyone = True
    if replied_to is not None:
        reply_ping = True if am is None else bool(am.get("replied_user", False))
        target = replied_to.author_id
        if reply_ping and target in world.users and target not in pings.users:
            pings.users.append(target)
    return pings


def _can_mention_everyone(guild: Guild | None, channel: Channel, author_id: str) -> bool:
    if guild is None:
        return False
    if author_id not in guild.members:  # webhooks may always mention everyone
        return True
    return bool(channel_permissions(guild, channel, author_id) & Permission.MENTION_EVERYONE)


def validate_allowed_mentions(am: dict[str, Any]) -> str | None:
    """Return Discord's error text for contradictory allowed_mentions, or None if valid."""
    parse = set(am.get("parse", []))
    if "users" in parse and am.get("users"):
        return "parse:users and users are mutually exclusive"
    if "roles" in parse and am.get("roles"):
        return "parse:roles and roles are mutually exclusive"
    return None
