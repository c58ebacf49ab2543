"""Shared tables: communities, members, settings, timers and the delivery outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class Community(Base):
    """A Discord guild or Slack workspace Steward serves."""

    __tablename__ = "communities"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[datetime]
    left_at: Mapped[datetime | None]


class KnownMember(Base):
    """A member Steward has seen in a community."""

    __tablename__ = "known_members"

    community_id: Mapped[str] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    left_at: Mapped[datetime | None]


class CommunitySetting(Base):
    """One feature's settings for one community, as the fields that differ from the defaults."""

    __tablename__ = "community_settings"

    community_id: Mapped[str] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class Timer(Base):
    """A durable one-off timer: written with the change that needs it, run once when due."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_pending", "done_at", "due_at"),
        Index("ix_timers_key", "community_id", "feature", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(200))


class JobRun(Base):
    """One run of a recurring job in one community, claimed by the process that makes it.

    The key is (job, community, slot): however many processes fire the job for the same slot,
    one inserts the row and runs it. ``finished_at`` is set when it ends; a row left unfinished
    past ``lease_until`` (its process was killed) is run again by another process.
    """

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_unfinished", "finished_at", "lease_until"),)

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    community_id: Mapped[str] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(80))
    claimed_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))


class InboxEvent(Base):
    """A platform event stored before it is acknowledged, until its listeners are done.

    Slack considers an acked event delivered and never sends it again: an event acked and only
    held in memory was lost to a kill. Each row is written before the ack goes out and deleted
    once the event is handled (``bot.core.inbox``); a row still here when Steward starts is an
    event a stopped process took and did not finish, handled again in ``id`` order.
    """

    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120))
    team_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    replays: Mapped[int] = mapped_column(default=0)
    owner: Mapped[str | None] = mapped_column(String(80))
    """The process handling it (host:pid:nonce); another takes it only after ``lease_until``."""
    lease_until: Mapped[datetime | None]


class GatewaySession(Base):
    """A Discord gateway session per shard, and how far Steward has handled its events.

    ``seq`` is a low watermark: every dispatch with a sequence up to it has finished its
    listeners and what they buffered is on disk. A process starting resumes the session from
    there (``bot.adapters.discord.resume``), so Discord replays what a killed process had
    received but not stored. Each process writes only the rows of the shards it runs.
    """

    __tablename__ = "gateway_sessions"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shard_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    shard_count: Mapped[int]
    session_id: Mapped[str] = mapped_column(String(128))
    resume_url: Mapped[str] = mapped_column(String(400))
    seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class OutboxItem(Base):
    """A delivery to a platform, keyed so a crash never posts twice and never loses a post.

    ``status`` is ``pending`` until the platform took it (``sent``, with ``message_id``) or it
    kept failing (``failed``, with ``last_error``), or ``merged``: it shares the post of the row
    whose payload lists its key under ``covers`` and gets that row's outcome (a burst's welcomes,
    ``bot.core.together``). ``attempted_at`` set on a pending row means
    an attempt began and may have gone out: the next one looks before sending again. Rows of one
    lane (community, kind, channel) go out in ``id`` order. ``claimed_by`` names the process
    sending a row; while it is set, ``due_at`` is that process's lease, renewed while the send is
    in flight: no other process takes the row before the lease has passed.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_due", "status", "due_at"),
        Index("ix_outbox_lane", "community_id", "channel_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    feature: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8), default="channel")
    channel_id: Mapped[str] = mapped_column(String(64))
    thread: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(8), default="pending")
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    attempted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(80))


class FailedEvent(Base):
    """An event a listener could not handle even after its retries: kept, never only logged.

    ``event`` is the event itself (pickled), so it can be handed to the same listener again
    (``/steward failures retry``, or by itself at ``retry_at`` when it failed on passing
    trouble); ``status`` is ``failed`` until a retry succeeds (``replayed``) or an admin
    dismisses it (``dismissed``). ``claimed_until``: a retry is under way until then (a process
    that died meanwhile leaves it to be taken again). The community is a plain column, not a
    reference: a failure is kept even when the community's own row could not be written.
    """

    __tablename__ = "failed_events"
    __table_args__ = (
        Index("ix_failed_events_status", "status", "community_id"),
        Index("ix_failed_events_retry_at", "retry_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    error_id: Mapped[str] = mapped_column(String(16))
    community_id: Mapped[str] = mapped_column(String(80))
    feature: Mapped[str] = mapped_column(String(32))
    listener: Mapped[str] = mapped_column(String(100))
    event_kind: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(300))
    event: Mapped[bytes] = mapped_column(LargeBinary)
    error: Mapped[str] = mapped_column(String(300))
    attempts: Mapped[int]
    failed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="failed")
    replayed_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]
    retries: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_until: Mapped[datetime | None]


class HandledEvent(Base):
    """A platform's delivery id already handled (Slack's ``event_id``), kept until it expires,
    so a redelivery after a restart is not handled twice."""

    __tablename__ = "handled_events"
    __table_args__ = (Index("ix_handled_events_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    expires_at: Mapped[datetime]
