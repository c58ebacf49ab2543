"""What a ``@component`` handler is told about a button press, select pick or form submission."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.core.ids import ChannelRef, CommunityRef, MessageRef
from bot.core.members import Member


class Pressed(Protocol):
    """A press as a feature reads it (the adapters build it; features never make one)."""

    @property
    def community(self) -> CommunityRef:
        """Where it happened."""
        ...

    @property
    def actor(self) -> Member:
        """Who pressed, picked or submitted."""
        ...

    @property
    def channel(self) -> ChannelRef:
        """The channel (or DM) of the message pressed."""
        ...

    @property
    def action(self) -> str:
        """The component's action."""
        ...

    @property
    def value(self) -> str:
        """The button's value."""
        ...

    @property
    def values(self) -> tuple[str, ...]:
        """The options picked in a select."""
        ...

    @property
    def fields(self) -> Mapping[str, str]:
        """A submitted form's inputs by key."""
        ...

    @property
    def message(self) -> MessageRef | None:
        """The message the component was on."""
        ...
