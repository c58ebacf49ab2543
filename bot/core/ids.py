"""Platform-neutral references to communities, users, channels, roles and messages."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Literal, NewType

Platform = Literal["discord", "slack"]
PLATFORMS: tuple[Platform, ...] = ("discord", "slack")


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """A Discord guild or a Slack workspace (team)."""

    platform: Platform
    id: str

    @property
    def key(self) -> str:
        """The stable database key, for example ``discord:123``."""
        return f"{self.platform}:{self.id}"

    @classmethod
    def from_key(cls, key: str) -> CommunityRef:
        """Parse a key written by :attr:`key`."""
        platform, _, ident = key.partition(":")
        if platform not in PLATFORMS or not ident:
            raise ValueError(f"not a community key: {key!r}")
        return cls(platform, ident)


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user inside one community."""

    community: CommunityRef
    id: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel; on Slack a thread is the parent channel plus the root message ``ts``."""

    community: CommunityRef
    id: str
    thread: str | None = None


Destination = NewType("Destination", ChannelRef)
"""A command option for a channel a feature posts into, where a Discord forum is offered too
(each post there opens a thread of its own); the value is a ChannelRef."""


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A Discord role or a Slack user group."""

    community: CommunityRef
    id: str


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A posted message: Discord message id or Slack ``ts``."""

    channel: ChannelRef
    id: str


def claimer_name() -> str:
    """This process's name in a claim (``outbox.claimed_by``, ``job_runs.claimed_by``,
    ``inbox_events.owner``): host, pid, and a nonce (pids are reused); at most 80 characters."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[-80:]
