"""The outbox's rows as values: what a try took (:class:`Claimed`), what it came to
(:class:`Sent`), what a feature reads (:class:`Delivery`), the retry policy, and the queries that
read rows back (a lane's pending rows, one row's outcome).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, select

from bot.core.ids import ChannelRef, CommunityRef, MessageRef
from bot.db.models import OutboxItem
from bot.db.uow import UnitOfWork

MAX_ATTEMPTS = 6
CLAIM_BATCH = 20
CLAIMS_AT_ONCE = 4
"""Lanes claiming rows at the same time (each claim is a short write transaction)."""
RETRY_LANE = timedelta(seconds=1)
"""How soon a lane whose drain failed (a busy database) is drained again."""
LEASE = timedelta(seconds=15)
"""How long a claim holds a row for its process: renewed every ``RENEW_EVERY`` while the row
is in flight there, so only a process that stopped (killed, paused, cut off from the database)
lets it pass; then another process takes the row over, looking before it posts again."""
RENEW_EVERY = timedelta(seconds=5)
SEND_TIMEOUT = timedelta(seconds=6)
"""The longest one try of a row may take (the look first, the post, a 429 waited out inside the
adapter): cut there, it comes to a retry like any passing failure."""
LANDS = timedelta(seconds=2)
"""How long after Steward gave up on a request the platform may still apply it (a request in
transit, a platform slow to answer), and the clocks of two processes may differ."""
SAFE_TO_SEND = SEND_TIMEOUT + LANDS
"""A try starts only while this much of its row's lease is left: whatever it sent has landed
before the lease can pass, even if its process is cut off from the database and renews no more
(the others take the row only after the lease, and then look first)."""
FIRST_RETRY = timedelta(seconds=2)
LAST_RETRY = timedelta(minutes=10)
Status = Literal["pending", "sent", "failed"]
Lane = tuple[str, str, str]
"""(community key, ``channel`` or ``dm``, channel or user id): rows that keep their order."""


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th try: 2 s, 4 s, 8 s ... at most 10 minutes."""
    factor: int = 2 ** max(attempts - 1, 0)
    return min(FIRST_RETRY * factor, LAST_RETRY)


def row_key(community: CommunityRef, feature: str, key: str) -> str:
    """The stored idempotency key: unique per community and feature, at most 200 characters."""
    full = f"{community.key}|{feature}|{key}"
    if len(full) <= 200:
        return full
    return full[:150] + "#" + hashlib.sha256(full.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a delivery: pending, sent (where it landed) or failed (why)."""

    status: Status
    message: MessageRef | None
    reason: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row taken for one attempt, with all that sending it needs."""

    key: str
    community: CommunityRef
    feature: str
    kind: str
    channel_id: str
    thread: str | None
    payload: dict[str, Any]
    attempt: int
    resend: datetime | None
    """When the row was queued, if an earlier try may have gone out (it began and was never
    recorded): look first for a post made since then."""
    due: datetime
    """When the claim's lease ends (renewed while the row is in flight)."""
    behind: int = 0
    """Rows waiting behind this one in its lane: the pacing lets the longest queue go first."""
    settled: float | None = None
    """For a resend: when (``time.monotonic()``) the lease of its earlier try ended, by which
    that try had landed or been given up (``bot.core.port.LOOKS_SETTLED_AFTER``)."""

    @property
    def lane(self) -> Lane:
        """The lane the row goes out in."""
        return (self.community.key, self.kind, self.channel_id)


@dataclass(frozen=True, slots=True)
class Sent:
    """What one try came to: sent (where), failed for good (why), or to be tried again."""

    claimed: Claimed
    status: Status
    landed: MessageRef | None
    reason: str | None

    @classmethod
    def of(
        cls, claimed: Claimed, landed: MessageRef | None, error: str | None, final: bool
    ) -> Sent:
        """The outcome of a try: a refusal (``final``) or the last allowed try fails it."""
        if error is None and landed is not None:
            return cls(claimed, "sent", landed, None)
        error = error or "unknown"
        if final:
            return cls(claimed, "failed", None, error[:200])
        if claimed.attempt >= MAX_ATTEMPTS:
            return cls(
                claimed, "failed", None, f"gave up after {claimed.attempt} tries: {error}"[:200]
            )
        return cls(claimed, "pending", None, error[:200])

    def values(self, now: datetime) -> dict[str, Any]:
        """The row's columns after this try."""
        values: dict[str, Any] = {
            "attempts": self.claimed.attempt,
            "status": self.status,
            "last_error": self.reason,
            "claimed_by": None,
        }
        if self.status == "pending":
            values["due_at"] = self.retry_at(now)
        if self.landed is not None:
            values |= {
                "sent_at": now,
                "message_channel_id": self.landed.channel.id,
                "message_id": self.landed.id,
            }
        return values

    def retry_at(self, now: datetime) -> datetime:
        """When a try that failed is made again: never before a post it may have sent (cut by
        ``SEND_TIMEOUT``, or its answer lost) has landed, so the look first sees it."""
        return now + max(backoff(self.claimed.attempt), LANDS)

    @property
    def delivery(self) -> Delivery:
        """The outcome as a feature reads it."""
        return Delivery(self.status, self.landed, self.reason, self.claimed.attempt)


def in_lane(lane: Lane) -> Any:
    community_id, kind, channel_id = lane
    return and_(
        OutboxItem.community_id == community_id,
        OutboxItem.kind == kind,
        OutboxItem.channel_id == channel_id,
        OutboxItem.status == "pending",
    )


_PENDING_IN = (
    select(OutboxItem.id)
    .where(
        OutboxItem.community_id == bindparam("lane_community"),
        OutboxItem.kind == bindparam("lane_kind"),
        OutboxItem.channel_id == bindparam("lane_channel"),
        OutboxItem.status == "pending",
    )
    .limit(1)
)
"""Whether a lane has a pending row: built once (every delivery asks, two per join in a storm;
building the query each time cost more than running it)."""


async def pending_in(uow: UnitOfWork, lane: Lane) -> bool:
    community_id, kind, channel_id = lane
    found = await uow.session.scalar(
        _PENDING_IN,
        {"lane_community": community_id, "lane_kind": kind, "lane_channel": channel_id},
    )
    return found is not None


async def read_delivery(uow: UnitOfWork, community: CommunityRef, stored: str) -> Delivery | None:
    row = await uow.session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == stored))
    return None if row is None else as_delivery(row, community)


def as_delivery(row: OutboxItem, community: CommunityRef) -> Delivery:
    landed = None
    if row.message_id is not None:
        channel = ChannelRef(community, row.message_channel_id or row.channel_id)
        landed = MessageRef(channel, row.message_id)
    status: Status = "pending"
    if row.status in ("sent", "failed"):
        status = "sent" if row.status == "sent" else "failed"
    return Delivery(status, landed, row.last_error, row.attempts)
