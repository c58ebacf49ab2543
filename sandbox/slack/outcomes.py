"""What a person sees after acting in the client: slash command, button click, view submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .delivery import Delivery
from .state import block_texts


@dataclass(slots=True)
class Shown:
    """One thing shown to the acting user: an ack body, a response_url post or an error."""

    text: str
    blocks: list[dict[str, Any]] | None
    ephemeral: bool
    via: str  # ack | response_url | error
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def rendered(self) -> str:
        """Text plus block texts."""
        return "\n".join([self.text, *block_texts(self.blocks or [])]).strip()


@dataclass(slots=True)
class Outcome:
    """A slash command's or interaction's result; `shown` grows as respond() posts arrive."""

    delivery: Delivery
    shown: list[Shown] = field(default_factory=list)
    error: str | None = None  # operation_timeout | dispatch_failed

    @property
    def ack(self) -> dict[str, Any] | None:
        """The ack body, when it arrived in time."""
        return self.delivery.ack_body()

    @property
    def status(self) -> int | None:
        """HTTP status of the first attempt (200 for an acked envelope, None if unanswered)."""
        return self.delivery.attempts[0].status if self.delivery.attempts else None

    @property
    def texts(self) -> list[str]:
        """The rendered text of everything shown, in arrival order."""
        return [s.rendered for s in self.shown]

    @property
    def ephemeral(self) -> bool:
        """Whether everything shown so far was visible only to the actor."""
        return all(s.ephemeral for s in self.shown)


@dataclass(slots=True)
class ViewOutcome(Outcome):
    """A view submission's result: closed, errors, updated or pushed."""

    action: str = "close"  # close | errors | update | push | clear | none
    errors: dict[str, str] = field(default_factory=dict)
