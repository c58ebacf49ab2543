"""The Port: everything a feature may ask a platform to do."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.events import MessagePosted, ReactionAdded
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform, RoleRef, UserRef
from bot.core.members import Member
from bot.core.message import Form, Message

LOOKS_SETTLED_AFTER: ContextVar[float | None] = ContextVar("looks_settled_after", default=None)
"""For the delivery being sent (set by the outbox): the instant (``time.monotonic()``) after
which every earlier try of it has landed or never will (the lease it went out under had ended).
A port's look in the channel for that earlier try may reuse a read of the channel begun since
then, rather than read it again for each resend (Slack's history is Tier 3: 50 reads a
minute). None: read afresh."""


class Capability(StrEnum):
    """What a platform can do; features check these and degrade in the open."""

    ROLES = "roles"
    TIMEOUT = "timeout"
    THREADS = "threads"
    BUTTONS = "buttons"
    SELECTS = "selects"
    EPHEMERAL = "ephemeral"
    FORMS = "forms"
    KICK = "kick"
    BAN = "ban"
    FILES = "files"
    CHANNEL_INVITE = "channel_invite"
    DM_COMPONENTS = "dm_components"
    CROSSPOST = "crosspost"


@dataclass(frozen=True, slots=True)
class Forum:
    """A channel where each message opens a post of its own (a Discord forum or media channel)."""

    tags: tuple[str, ...]
    """The names of the tags a post may carry."""
    requires_tag: bool = False
    """Every post must carry at least one tag."""
    media: bool = False
    """A media channel: each post needs an attached image or video."""


TAGS_REFUSED = "Discord refused the post's tags"
"""How every refusal of a forum post for its tags begins (a tag the forum now requires, one it
no longer has, one it keeps for moderators), so a feature can tell it from other refusals."""


class Port(Protocol):
    """One per platform; features reach it as ``ctx.port``."""

    platform: Platform
    capabilities: frozenset[Capability]

    def for_feature(self, feature: str) -> Port:
        """This port as one feature uses it (its buttons come back to that feature)."""
        ...

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        """Post a message in a channel (or thread).

        ``key`` makes the post idempotent (Discord: a nonce; Slack: message metadata);
        ``resend`` (when the delivery was queued) says an earlier attempt with that key may have
        gone out, so a message already posted since then is returned instead of a second one.
        """
        ...

    async def reply(self, to: MessageRef, message: Message) -> MessageRef:
        """Reply to a message (Slack: in its thread)."""
        ...

    async def dm(
        self,
        user: UserRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef | None:
        """Send a direct message; None when the member's DMs are closed (``key``, ``resend``:
        as for :meth:`send`)."""
        ...

    async def edit(self, message: MessageRef, new: Message) -> None:
        """Change a message Steward posted (``NotFound`` when it was deleted). Files and pings
        stay as they were: an edit changes text, fields and components."""
        ...

    async def open_thread(self, on: MessageRef, name: str) -> ChannelRef:
        """Open a discussion thread on a message."""
        ...

    async def open_group(
        self, users: Sequence[UserRef], *, name: str, parent: ChannelRef | None
    ) -> ChannelRef:
        """A private conversation between these members and Steward, where their messages go.

        Slack: a group DM (``conversations.open`` with the users; at most 8). Discord: bots cannot
        open group DMs, so a private thread in ``parent`` named ``name``, with the members added
        (NotSupported without ``parent``)."""
        ...

    async def crosspost(self, message: MessageRef) -> None:
        """Publish a post of an announcement channel to the channels that follow it (Discord;
        Slack: NotSupported). Publishing it again does nothing."""
        ...

    async def forum(self, channel: ChannelRef) -> Forum | None:
        """The channel as a forum (its tags, whether one is required); None when it is not one
        (Slack has no forums)."""
        ...

    async def add_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Give a member a role (Slack: add to a user group)."""
        ...

    async def remove_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Take a role away (Slack: remove from a user group)."""
        ...

    async def timeout(self, user: UserRef, until: datetime | None, *, reason: str) -> None:
        """Stop a member talking until a time; None lifts it."""
        ...

    async def kick(self, user: UserRef, *, reason: str) -> None:
        """Remove a member from the community."""
        ...

    async def ban(self, user: UserRef, *, reason: str) -> None:
        """Ban a member."""
        ...

    async def unban(self, user: UserRef, *, reason: str) -> None:
        """Lift a ban (``NotFound`` when there is none)."""
        ...

    async def delete_message(self, message: MessageRef, *, reason: str) -> None:
        """Delete a message."""
        ...

    async def purge(self, channel: ChannelRef, user: UserRef, count: int, *, reason: str) -> int:
        """Delete ``user``'s latest ``count`` messages among the channel's last 100 (Discord:
        only those under two weeks old); returns how many were deleted."""
        ...

    async def fetch_member(self, user: UserRef) -> Member | None:
        """Look a member up; None when they are not in the community."""
        ...

    async def myself(self, community: CommunityRef) -> Member | None:
        """Steward's own member snapshot in a community (its id, and on Discord its highest
        role's position, which bounds whom the platform lets it act on)."""
        ...

    async def open_form(self, token: str, form: Form) -> None:
        """Show a form (modal) in answer to an interaction ``token``."""
        ...

    async def channels(self, community: CommunityRef) -> list[ChannelRef]:
        """The text channels (and open threads) of a community whose history Steward can read."""
        ...

    async def channel_names(self, community: CommunityRef) -> dict[str, str]:
        """Channel id -> name, for the channels ``channels`` lists (reports show names)."""
        ...

    async def history(
        self, channel: ChannelRef, after: str | None, limit: int
    ) -> list[MessagePosted | ReactionAdded]:
        """Messages posted in a channel after message ``after``, oldest first, at most ``limit``,
        each followed by the reactions it carries now. The platforms don't say when a reaction
        was added: they are timed at their message.

        On Slack the top-level messages come with the replies in their threads.
        """
        ...

    async def add_to_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> None:
        """Bring a member into a channel (Slack: conversations.invite; Discord: NotSupported)."""
        ...

    async def remove_from_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> bool:
        """Take a member out of a channel (Slack: conversations.kick; Discord: NotSupported);
        False when they were not in it or nobody can be removed from it (#general)."""
        ...

    async def count_members(self, community: CommunityRef) -> int | None:
        """How many people are in the community; None when the platform won't say."""
        ...

    async def channel_members(self, channel: ChannelRef) -> list[UserRef]:
        """The people (no bots) in a channel: Slack, its members (``conversations.members``);
        Discord, the server's members who can view it."""
        ...
