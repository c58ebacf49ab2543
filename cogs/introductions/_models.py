"""Introductions' tables: the pool, rounds, groups and answers, do-not-pair lists, who talked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base

_COMMUNITY = "communities.id"
FOREVER = 2**31 - 1
"""``paused_until`` for a pause that lasts until the member comes back."""


class IntroConfig(Base):
    """Whether a community's rounds are running, and the managers' conversation starters."""

    __tablename__ = "introductions_config"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    running: Mapped[bool] = mapped_column(default=False)
    starters: Mapped[str] = mapped_column(Text, default="")
    """The managers' conversation starters, one a line."""
    updated_at: Mapped[datetime]


class IntroMember(Base):
    """A member the feature knows: in the pool or not, paused, and how many rounds they ignored."""

    __tablename__ = "introductions_members"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(default=False)
    paused_until: Mapped[int | None]
    """The first round number they take part in again (FOREVER: until they rejoin)."""
    ignored: Mapped[int] = mapped_column(default=0)
    """Rounds ignored in a row."""
    arrived_at: Mapped[datetime | None]
    """When they joined the community, if Steward saw it (newcomer-veteran mode)."""
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    """They left the pool themselves: a pool channel never brings them back in."""
    interests: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The interests they picked in onboarding, by name, one a line."""
    offered_at: Mapped[datetime | None]
    """When they were offered a place in the pool after onboarding (once)."""
    updated_at: Mapped[datetime]

    def interest_names(self) -> frozenset[str]:
        """Their interests as a set of names."""
        return frozenset(n for n in self.interests.splitlines() if n)


class IntroRound(Base):
    """One round: when it started and ends (the next round's start)."""

    __tablename__ = "introductions_rounds"
    __table_args__ = (Index("ix_introductions_rounds_started", "community_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    number: Mapped[int]
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    closed: Mapped[bool] = mapped_column(default=False)


class IntroGroup(Base):
    """A group introduced in a round, and the conversation it was given."""

    __tablename__ = "introductions_groups"
    __table_args__ = (
        Index("ix_introductions_groups_conversation", "community_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(
        ForeignKey("introductions_rounds.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    problem: Mapped[str | None] = mapped_column(String(300))


class IntroSeat(Base):
    """A member's place in a group, with their check-in answer."""

    __tablename__ = "introductions_seats"
    __table_args__ = (Index("ix_introductions_seats_user", "community_id", "user_id"),)

    group_id: Mapped[int] = mapped_column(
        ForeignKey("introductions_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(
        ForeignKey("introductions_rounds.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str | None] = mapped_column(String(16))


class IntroAvoid(Base):
    """A pair never to be put together: a member's own wish (kept private) or the moderators'."""

    __tablename__ = "introductions_avoid"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    set_by: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The member who asked, or ``mods`` for the moderators' list."""
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    other_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]


class IntroTalk(Base):
    """Two members who talked (a mention, or a thread both posted in): ids only, never text."""

    __tablename__ = "introductions_talks"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    low_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    high_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class IntroThreadPoster(Base):
    """Someone who posted in a thread, so a later poster there is known to have talked to them."""

    __tablename__ = "introductions_thread_posters"

    community_id: Mapped[str] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), primary_key=True
    )
    thread: Mapped[str] = mapped_column(String(140), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class IntroThanks(Base):
    """A thank-you from one member to someone they met; shown in a channel only if both agree."""

    __tablename__ = "introductions_thanks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    from_id: Mapped[str] = mapped_column(String(64))
    to_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    share: Mapped[bool] = mapped_column(default=False)
    """Whether the sender agreed to show it in the thanks channel."""
    shared_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
