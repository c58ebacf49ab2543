"""Domain events: what happened in a community, in platform-neutral terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef
from bot.core.members import Member


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened in one community at one time."""

    community: CommunityRef
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    """A member joined (or rejoined) the community."""

    member: Member


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    """A member left or was removed."""

    user: UserRef
    delivery: str = ""
    """What tells this leaving from another of the same member when ``at`` is not the
    platform's own time (Discord's GUILD_MEMBER_REMOVE carries none): the gateway session and
    sequence it came as, the same when a resumed session replays it. Empty on Slack, whose
    ``at`` is the event's own time. See :func:`occurrence`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForgetRequested(Event):
    """A member opted out of Steward or asked for their data to be deleted: every feature's
    ``forget_member`` runs (switched off or not)."""

    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberUpdated(Event):
    """A member's name, roles or level changed."""

    member: Member


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeratedInClient(Event):
    """A moderator acted in the platform's own client rather than through Steward.

    Discord only (from its audit-log, ban and member-update events; Slack sends no such events).
    Steward's own actions are never published as this.
    """

    action: str
    """``ban``, ``unban``, ``kick``, ``timeout`` or ``untimeout``."""
    user: UserRef
    by: UserRef | None
    """Who acted; None when Steward cannot read the audit log (then kicks are not seen at all,
    and a ban, unban or timeout comes from its own event)."""
    reason: str | None = None
    until: datetime | None = None
    """For a timeout: when it ends."""
    source: str | None = None
    """The platform's id for the action (Discord: the audit entry), so a replay is known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    """A message was posted in a channel or thread."""

    message: MessageRef
    author: Member
    text: str
    in_thread: bool = False
    reply_to: MessageRef | None = None
    reply_author: UserRef | None = None
    """Who wrote the message this one replies to, when the platform says (Discord: the
    referenced message's author; Slack: a thread reply's ``parent_user_id``)."""
    attachments: int = 0
    parent_channel: str | None = None
    """Discord: the channel a thread belongs to (a Slack thread keeps its channel's id)."""
    mentions: frozenset[UserRef] = frozenset()
    """The members the message mentions (read by the adapter, so no feature parses platform
    mention syntax)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    """A message's text changed."""

    message: MessageRef
    author: UserRef | None
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    """A message was deleted."""

    message: MessageRef


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    """Someone reacted to a message."""

    message: MessageRef
    user: UserRef
    emoji: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(Event):
    """Someone took a reaction back."""

    message: MessageRef
    user: UserRef
    emoji: str
    delivery: str = ""
    """As :attr:`MemberLeft.delivery`: a reaction taken back, added again and taken back again
    is two takings back with the same content."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadOpened(Event):
    """A thread was opened."""

    thread: ChannelRef
    parent: MessageRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformReady(Event):
    """Steward is connected to a community and receiving its events again.

    Published by the adapters when a Discord guild becomes available or the gateway session
    resumes, and when Slack's Socket Mode (re)connects or the HTTP endpoint starts. Events may
    have been missed while Steward was away; features that keep history catch up on it.
    """

    joined: tuple[MemberJoined, ...] = ()
    """Discord: the members (no bots) of the guild who joined within the last day, newest
    first, at most ``RECENT_JOINS``, as joins: Discord does not send again the joins made while
    no Steward ran, so onboarding welcomes those it has not stored."""

    members: tuple[Member, ...] | None = None
    """Slack: every person in the workspace (users.list without bots, deactivated accounts and
    Slackbot), the likeliest oldest joins first; None where the platform did not list them
    (Discord, or Slack's listing failed). Slack gives up on a join it could not deliver after a
    few minutes and its users carry no join date: onboarding compares this list with the one
    it kept at the last ready to find who joined while no Steward ran."""


RECENT_JOINS = 1000
"""The most recent joins a ``PlatformReady`` carries."""


def occurrence(event: MemberLeft | ReactionRemoved) -> str:
    """What names this happening in an idempotency key: the same when the platform delivers
    it again (a resumed Discord session's replay, a Slack retry), different for another
    happening with the same content (a member who leaves, comes back and leaves again)."""
    return event.delivery or event.at.isoformat()
