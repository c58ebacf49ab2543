"""Onboarding's tables: each member's progress, the rules and templates, interests and buddies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base

_COMMUNITY = "communities.id"


class OnboardingConfig(Base):
    """One community's rules text and welcome template."""

    __tablename__ = "onboarding_config"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    rules_text: Mapped[str | None] = mapped_column(Text)
    welcome_template: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    seen_at: Mapped[datetime | None]
    """When Steward was last ready in the community (``PlatformReady``): members who joined
    after it and are not stored joined while no Steward ran, and are welcomed then."""
    roster_at: Mapped[datetime | None]
    """When ``onboarding_roster`` was last replaced by the platform's list of members (Slack,
    on ready); None: never, so the first list welcomes nobody (the members of a workspace
    Steward has just been added to, or was running in before it kept a list, are not
    newcomers)."""


class OnboardingMember(Base):
    """One member's way through onboarding: when each step was done, and what was sent."""

    __tablename__ = "onboarding_members"
    __table_args__ = (Index("ix_onboarding_members_joined", "community_id", "joined_at"),)

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    newcomer: Mapped[bool] = mapped_column(default=True)
    """False for members who were here before onboarding and only used a command."""
    rejoins: Mapped[int] = mapped_column(default=0)
    returned_at: Mapped[datetime | None]
    welcomed_at: Mapped[datetime | None]
    dm_open: Mapped[bool] = mapped_column(default=True)
    rules_at: Mapped[datetime | None]
    interests_at: Mapped[datetime | None]
    intro_at: Mapped[datetime | None]
    intro_channel_id: Mapped[str | None] = mapped_column(String(64))
    intro_message_id: Mapped[str | None] = mapped_column(String(64))
    first_reply_at: Mapped[datetime | None]
    first_post_at: Mapped[datetime | None]
    day7_active_at: Mapped[datetime | None]
    buddy_id: Mapped[str | None] = mapped_column(String(64))
    buddy_talked_at: Mapped[datetime | None]
    buddy_missed: Mapped[bool] = mapped_column(default=False)
    nudged: Mapped[dict[str, Any]]


class OnboardingRosterEntry(Base):
    """Someone in the community as Steward last knew it (Slack): everyone the platform listed
    at the last ready, less those who left since. A listed member who is in neither this nor
    ``onboarding_members`` joined while no Steward ran (Slack gives up redelivering a join
    after a few minutes). Only ids: a member forgotten on request keeps theirs, so the next
    ready does not take them for a newcomer and record them again (the platform lists them
    anyway while they are in the workspace)."""

    __tablename__ = "onboarding_roster"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class OnboardingInterest(Base):
    """An interest members may pick, and what picking it grants."""

    __tablename__ = "onboarding_interests"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    emoji: Mapped[str | None] = mapped_column(String(64))
    role_id: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(64))


class OnboardingPick(Base):
    """An interest one member picked."""

    __tablename__ = "onboarding_picks"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interest_id: Mapped[int] = mapped_column(
        ForeignKey("onboarding_interests.id", ondelete="CASCADE"), primary_key=True
    )
    picked_at: Mapped[datetime]


class OnboardingBuddy(Base):
    """A member in the buddy pool."""

    __tablename__ = "onboarding_buddies"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    capacity: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime]


class OnboardingReport(Base):
    """A setup problem managers were told about, so they are told once."""

    __tablename__ = "onboarding_reports"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    reported_at: Mapped[datetime]
