"""What a feature with background work keeps from the App: the runtime ``attach`` receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.activity import Activity
from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.failures import Failures
from bot.core.steps import Steps
from bot.db.uow import UnitOfWork


class Storage(Protocol):
    """The database as background work sees it (the App's ``Database``)."""

    url: str
    engine: AsyncEngine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        ...


@dataclass(frozen=True, slots=True)
class ProcessOptions:
    """The few process-wide choices features follow (from the App's config)."""

    fetch_allow: tuple[str, ...] = ()
    """Networks Steward may fetch from although they are private (any port)."""
    min_poll_interval: timedelta = timedelta(minutes=2)
    """The shortest interval between two polls of one feed."""


@dataclass(slots=True)
class WebAddress:
    """Where Steward's HTTP endpoint is reached: set by the App once it listens, else None."""

    base_url: str | None = None

    def url(self, path: str) -> str | None:
        """The full address of one endpoint path, or None while Steward has no endpoint."""
        return None if self.base_url is None else self.base_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class Runtime:
    """Units of work, time, the activity counter, the event publisher and the dispatcher's
    steps (registration, settings, enabled, level: ``bot.core.steps``); nothing else.

    Handlers get all they need from their context; only a feature with work of its own beside
    the handlers (engagement's ingest buffer) keeps this, from ``Feature.attach``.
    """

    db: Storage
    clock: Clock
    activity: Activity
    publish: Callable[[Event], Awaitable[None]]
    steps: Steps
    failures: Failures
    """Listener failures kept after their retries (the built-in ``/steward failures``)."""
    options: ProcessOptions = field(default_factory=ProcessOptions)
    web: WebAddress = field(default_factory=WebAddress)

    def uow(self) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return self.db.uow()
