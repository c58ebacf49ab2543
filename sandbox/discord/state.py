"""The world the fake keeps: users, guilds, roles, channels, members, messages, commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .ids import SnowflakeGenerator, now_iso
from .permissions import DEFAULT_EVERYONE

JSON = dict[str, Any]

# channel types
TEXT, DM, VOICE, CATEGORY, ANNOUNCEMENT = 0, 1, 2, 4, 5
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, FORUM, MEDIA = 10, 11, 12, 15, 16
FORUMS = frozenset({FORUM, MEDIA})
THREAD_TYPES = frozenset({10, PUBLIC_THREAD, PRIVATE_THREAD})

# channel flags
REQUIRE_TAG = 1 << 4

# message flags
EPHEMERAL, LOADING, HAS_THREAD = 64, 128, 32
CROSSPOSTED = 1


@dataclass
class User:
    """A Discord account: a person, the bot, or a webhook author."""

    id: str
    username: str
    bot: bool = False
    global_name: str | None = None
    dms_open: bool = True

    @property
    def mention(self) -> str:
        """Return the mention markup for this user."""
        return f"<@{self.id}>"


@dataclass
class Role:
    """A guild role; the one whose id equals the guild id is @everyone."""

    id: str
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    mentionable: bool = False
    hoist: bool = False
    color: int = 0

    @property
    def mention(self) -> str:
        """Return the mention markup for this role."""
        return f"<@&{self.id}>"


@dataclass
class Overwrite:
    """A channel permission overwrite (type 0 role, 1 member)."""

    id: str
    type: int
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A guild channel, thread or DM channel."""

    id: str
    type: int
    name: str | None = None
    guild_id: str | None = None
    position: int = 0
    parent_id: str | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_id: str | None = None  # DMs
    owner_id: str | None = None  # threads
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    created_at: str = field(default_factory=now_iso)
    last_message_id: str | None = None
    message_count: int = 0
    thread_members: set[str] = field(default_factory=set)
    invitable: bool = True  # private threads: whether non-moderators may add people
    flags: int = 0
    available_tags: list[JSON] = field(default_factory=list)  # forums: the tags posts may carry
    applied_tags: list[str] = field(default_factory=list)  # forum posts: their tags' ids

    @property
    def is_thread(self) -> bool:
        """Return True for thread channels."""
        return self.type in THREAD_TYPES

    @property
    def mention(self) -> str:
        """Return the mention markup for this channel."""
        return f"<#{self.id}>"


@dataclass
class Member:
    """A user's membership of one guild."""

    user_id: str
    guild_id: str
    roles: list[str] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=now_iso)
    communication_disabled_until: str | None = None
    pending: bool = False
    flags: int = 0

    def timed_out(self) -> bool:
        """Return True while a timeout is in force."""
        if self.communication_disabled_until is None:
            return False
        until = dt.datetime.fromisoformat(self.communication_disabled_until)
        return until > dt.datetime.now(dt.UTC)


@dataclass
class Ban:
    """A guild ban."""

    user_id: str
    reason: str | None = None
    delete_message_seconds: int = 0


@dataclass
class Webhook:
    """A channel webhook (type 1) with its secret token."""

    id: str
    channel_id: str
    guild_id: str | None
    name: str
    token: str
    creator_id: str


@dataclass
class Guild:
    """A guild with its roles, channels, members, bans and webhooks."""

    id: str
    name: str
    owner_id: str
    roles: dict[str, Role] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    bans: dict[str, Ban] = field(default_factory=dict)
    joined_at: str = field(default_factory=now_iso)
    audit_log: list[JSON] = field(default_factory=list)

    @property
    def everyone(self) -> Role:
        """Return the @everyone role."""
        return self.roles[self.id]

    def role_named(self, name: str) -> Role:
        """Return the role with this name."""
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(name)

    def channel_named(self, name: str) -> Channel:
        """Return the channel with this name."""
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(name)


@dataclass
class Reaction:
    """Who reacted with one emoji on a message."""

    emoji: JSON
    users: list[str] = field(default_factory=list)


@dataclass
class Message:
    """A message, with the pings Discord computed and who may see it."""

    id: str
    channel_id: str
    guild_id: str | None
    author: JSON  # the user payload (webhooks use a synthetic author)
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None
    mentions: list[str] = field(default_factory=list)
    mention_roles: list[str] = field(default_factory=list)
    mention_everyone: bool = False
    reference: JSON | None = None
    reactions: list[Reaction] = field(default_factory=list)
    webhook_id: str | None = None
    application_id: str | None = None
    interaction_metadata: JSON | None = None
    visible_to: str | None = None  # user id for ephemeral messages, else None (everyone)
    thread_id: str | None = None
    pinned: bool = False
    tts: bool = False
    deleted: bool = False
    nonce: str | None = None

    @property
    def author_id(self) -> str:
        """Return the author's id."""
        return str(self.author["id"])

    @property
    def ephemeral(self) -> bool:
        """Return True if only one user can see this message."""
        return bool(self.flags & EPHEMERAL)

    def custom_ids(self) -> list[str]:
        """Return every component custom_id on this message, depth first."""
        found: list[str] = []

        def walk(items: list[JSON]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(item["custom_id"])
                walk(item.get("components", []))
                if isinstance(item.get("component"), dict):
                    walk([item["component"]])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return found


@dataclass
class Command:
    """An application command as synced by the bot (scope None = global)."""

    id: str
    guild_id: str | None
    payload: JSON

    @property
    def name(self) -> str:
        """Return the command's name."""
        return str(self.payload["name"])

    @property
    def type(self) -> int:
        """Return the command type (1 chat input, 2 user, 3 message)."""
        return int(self.payload.get("type", 1))


@dataclass
class Application:
    """The bot's application: id (= bot user id), owner and portal switches."""

    id: str
    name: str
    owner_id: str
    enabled_privileged_intents: int
    commands: dict[str | None, list[Command]] = field(default_factory=dict)


class World:
    """All state of the fake Discord, indexed for the REST and gateway layers."""

    def __init__(self, snowflake: SnowflakeGenerator | None = None) -> None:
        self.snowflake = snowflake or SnowflakeGenerator()
        self.users: dict[str, User] = {}
        self.guilds: dict[str, Guild] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, Message] = {}
        self.channel_messages: dict[str, list[str]] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        # (author id, nonce) -> (time.monotonic() when created, message id), for enforce_nonce
        self.nonces: dict[tuple[str, str], tuple[float, str]] = {}

    def new_id(self) -> str:
        """Return a fresh snowflake."""
        return self.snowflake()

    def add_user(self, username: str, *, bot: bool = False, user_id: str | None = None) -> User:
        """Create a user."""
        user = User(id=user_id or self.new_id(), username=username, bot=bot, global_name=username)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User) -> Guild:
        """Create a guild with its @everyone role and the owner as a member."""
        gid = self.new_id()
        guild = Guild(id=gid, name=name, owner_id=owner.id)
        guild.roles[gid] = Role(id=gid, name="@everyone", permissions=int(DEFAULT_EVERYONE))
        guild.members[owner.id] = Member(user_id=owner.id, guild_id=gid)
        self.guilds[gid] = guild
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int = 0, **kw: Any) -> Role:
        """Create a role just above the current highest one (or at ``position``)."""
        position = kw.pop("position", None)
        if position is None:
            position = max(r.position for r in guild.roles.values()) + 1
        role = Role(
            id=self.new_id(), name=name, permissions=int(permissions), position=position, **kw
        )
        guild.roles[role.id] = role
        return role

    def add_channel(
        self, guild: Guild | None, name: str | None, type_: int = TEXT, **kw: Any
    ) -> Channel:
        """Create a guild channel or thread."""
        channel = Channel(
            id=kw.pop("channel_id", None) or self.new_id(),
            type=type_,
            name=name,
            guild_id=guild.id if guild else None,
            position=len(guild.channels) if guild else 0,
            **kw,
        )
        if guild is not None:
            guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.channel_messages.setdefault(channel.id, [])
        return channel

    def dm_channel(self, user: User) -> Channel:
        """Return (creating once) the bot's DM channel with a user."""
        cid = self.dm_channels.get(user.id)
        if cid is not None:
            return self.channels[cid]
        channel = self.add_channel(None, None, DM, recipient_id=user.id)
        self.dm_channels[user.id] = channel.id
        return channel

    def add_message(self, message: Message) -> Message:
        """Store a message in its channel in creation order."""
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            channel.message_count += 1
        return message

    def messages_in(self, channel_id: str) -> list[Message]:
        """Return live messages of a channel, oldest first (ephemerals included)."""
        ids = self.channel_messages.get(channel_id, [])
        return [self.messages[i] for i in ids if not self.messages[i].deleted]

    def guild_of(self, channel: Channel) -> Guild | None:
        """Return the guild a channel belongs to, if any."""
        return self.guilds.get(channel.guild_id) if channel.guild_id else None
