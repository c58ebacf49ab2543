"""Discord permission maths: base guild permissions, channel overwrites and role hierarchy."""

from __future__ import annotations

from enum import IntFlag
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Channel, Guild

PRIVATE_THREAD = 12  # as in state (which imports this module's neighbours)


class Permission(IntFlag):
    """Permission bits as Discord defines them (sent as strings on the wire)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_EVERYONE = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.CHANGE_NICKNAME
)
# Bits that only make sense per channel; a timed-out member keeps only these two.
_TIMEOUT_KEEP = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY


def base_permissions(guild: Guild, user_id: str) -> int:
    """Return guild-level permissions: @everyone OR the member's roles; owner/admin get all."""
    if user_id == guild.owner_id:
        return ALL_PERMISSIONS
    member = guild.members.get(user_id)
    if member is None:
        return 0
    perms = guild.roles[guild.id].permissions
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def channel_permissions(guild: Guild, channel: Channel, user_id: str) -> int:
    """Return effective permissions in a channel, applying overwrites in Discord's order.

    Threads inherit the permissions of their parent channel; a private thread is seen only by
    its members and by those who may manage threads.
    """
    if channel.type == PRIVATE_THREAD and user_id not in channel.thread_members:
        parent = guild.channels.get(channel.parent_id or "")
        held = channel_permissions(guild, parent, user_id) if parent is not None else 0
        return held if held & Permission.MANAGE_THREADS else 0
    if channel.is_thread and channel.parent_id is not None:
        parent = guild.channels.get(channel.parent_id)
        if parent is not None:
            channel = parent
    perms = base_permissions(guild, user_id)
    if perms == ALL_PERMISSIONS:
        return ALL_PERMISSIONS
    member = guild.members.get(user_id)
    if member is None:
        return 0
    overwrites = {ow.id: ow for ow in channel.overwrites}
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.roles:
        ow = overwrites.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = overwrites.get(user_id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    if member.timed_out():
        perms &= _TIMEOUT_KEEP
    if not perms & Permission.VIEW_CHANNEL:
        return 0
    return perms


def top_role_position(guild: Guild, user_id: str) -> int:
    """Return the position of the member's highest role (0 = @everyone only)."""
    member = guild.members.get(user_id)
    if member is None:
        return -1
    positions = [guild.roles[r].position for r in member.roles if r in guild.roles]
    return max(positions, default=0)


def outranks(guild: Guild, actor_id: str, target_id: str) -> bool:
    """Return True if the actor may act on the target by role hierarchy (owner wins)."""
    if target_id == guild.owner_id:
        return False
    if actor_id == guild.owner_id:
        return True
    return top_role_position(guild, actor_id) > top_role_position(guild, target_id)


def has(perms: int, needed: int) -> bool:
    """Return True if every bit of ``needed`` is in ``perms``."""
    return perms & needed == needed
