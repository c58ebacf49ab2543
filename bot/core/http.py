"""Features' HTTP endpoints (inbound webhooks, WebSub): neutral requests in, responses out.

A feature declares ``@endpoint("POST", "/hooks/{token}")``; the App serves it at
``/<feature>/hooks/{token}`` on Steward's HTTP endpoint (Slack's HTTP-mode port, or its own port
when ``STEWARD_HTTP_PORT`` is set). The handler runs in one unit of work, like any other handler;
it enters a community (``await ctx.enter(community)``) to deliver, and the outbox sends after
the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.clock import Clock
from bot.core.context import Context
from bot.core.ids import CommunityRef
from bot.db.uow import UnitOfWork

METHODS = frozenset({"GET", "POST"})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request: header names lower-cased, the path's ``{names}`` in ``params``."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What to answer: a status and a short plain text (never an exception's text)."""

    status: int
    text: str = ""
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class EndpointMark:
    """How ``@endpoint`` marks a feature method."""

    method: str
    path: str


@dataclass
class HttpContext:
    """What an endpoint handler gets: the unit of work, the clock, a log, and communities."""

    uow: UnitOfWork
    clock: Clock
    log: logging.LoggerAdapter[logging.Logger]
    enter: Callable[[CommunityRef], Awaitable[Context[Any] | None]]
    """The feature's context in a community (same unit of work), or None where it is off."""
    entered: list[Context[Any]] = field(default_factory=list)

    async def commit(self) -> None:
        """Commit what the handler did so far."""
        await self.uow.commit()
