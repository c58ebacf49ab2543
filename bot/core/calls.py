"""What the adapters hand the dispatcher for a person's action: a command or a press."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.commands import CommandSpec
from bot.core.context import Responder
from bot.core.errors import UserError
from bot.core.ids import ChannelRef, CommunityRef, MessageRef
from bot.core.members import Member


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """A command someone ran, with arguments already parsed by the adapter."""

    spec: CommandSpec
    community: CommunityRef
    actor: Member
    channel: ChannelRef
    args: Mapping[str, Any]
    responder: Responder
    problem: UserError | None = None
    """What was wrong with the arguments as typed; told only once the actor may run the command
    (a member asking for a moderator command hears it is not theirs, not its usage)."""


@dataclass(frozen=True, kw_only=True)
class Press:
    """A button press, select pick or form submission."""

    community: CommunityRef
    actor: Member
    channel: ChannelRef
    feature: str
    action: str
    value: str = ""
    values: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    message: MessageRef | None = None
    responder: Responder
