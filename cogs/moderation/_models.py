"""Moderation's tables: numbered cases per community, and the audit of every move a case makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class ModerationCase(Base):
    """One numbered record (#1, #2, ...) per action or report in a community; never deleted."""

    __tablename__ = "moderation_cases"
    __table_args__ = (
        UniqueConstraint("community_id", "number", name="uq_moderation_cases_number"),
        Index("ix_moderation_cases_target", "community_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str] = mapped_column(String(64))
    """The moderator who acted, or ``automod:<rule>`` / ``ladder`` when a rule did."""
    reason: Mapped[str] = mapped_column(Text)
    points: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))
    voided: Mapped[bool] = mapped_column(default=False)
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    dm_sent: Mapped[bool | None]
    """Whether the member's notice arrived (None: none was due, or not yet tried)."""
    modlog_channel_id: Mapped[str | None] = mapped_column(String(64))
    modlog_message_id: Mapped[str | None] = mapped_column(String(64))
    ladder_step: Mapped[int | None]
    """For a case the escalation ladder opened: the threshold of the step it carried out."""


class ModerationCaseEvent(Base):
    """One move of a case: who, when, from which status to which, at whose request."""

    __tablename__ = "moderation_case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "version", name="uq_moderation_case_events_version"),
        UniqueConstraint("case_id", "key", name="uq_moderation_case_events_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"))
    version: Mapped[int]
    move: Mapped[str] = mapped_column(String(16))
    before: Mapped[str] = mapped_column(String(16))
    after: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    key: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class ModerationAutomodRule(Base):
    """One automod rule of a community (see ``_rules.Rule`` for what each field means)."""

    __tablename__ = "moderation_automod_rules"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str] = mapped_column(Text, default="")
    """The word or regular expression; for link rules, the domains separated by spaces."""
    limit: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[int] = mapped_column(default=0)
    action: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(default=0)
    dry_run: Mapped[bool] = mapped_column(default=False)
    exempt_roles: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Role (Slack: user group) ids whose members the rule leaves alone, separated by spaces."""
    exempt_channels: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Channel ids the rule leaves alone, separated by spaces."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ModerationDuty(Base):
    """A moderator on duty: new reports ping them first."""

    __tablename__ = "moderation_duty"
    __table_args__ = (UniqueConstraint("community_id", "user_id", name="uq_moderation_duty_user"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime]


class ModerationEscalationMember(Base):
    """A member an escalation is about: who raised it, and each who pressed "Me too"; all are
    told privately when it is resolved."""

    __tablename__ = "moderation_escalation_members"
    __table_args__ = (
        UniqueConstraint("case_id", "user_id", name="uq_moderation_escalation_members_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]
    raised: Mapped[bool] = mapped_column(default=False)
    """True for the member whose message was escalated; False for a "Me too"."""


class ModerationEscalationHook(Base):
    """Where a community's escalations are sent, signed (Standard Webhooks); one per community.
    The secret lives here, not in the settings every manager can list."""

    __tablename__ = "moderation_escalation_hooks"

    community_id: Mapped[str] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ModerationDutySlot(Base):
    """A weekly hour range a moderator is on duty, in the community's time zone."""

    __tablename__ = "moderation_duty_slots"
    __table_args__ = (
        UniqueConstraint(
            "community_id", "user_id", "weekday", "start_minute", name="uq_moderation_duty_slots"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int]
    """0 Monday … 6 Sunday: the day the range starts."""
    start_minute: Mapped[int]
    """Minutes after local midnight the range starts."""
    end_minute: Mapped[int]
    """Minutes after local midnight it ends; at or before the start: it ends the next day."""
