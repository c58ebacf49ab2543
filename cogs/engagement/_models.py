"""Engagement tables: raw events (append-only, metadata only) and the rollups reports read.

Days are whole UTC days counted from 1970-01-01 (an integer), so day arithmetic is the same
SQL on SQLite and PostgreSQL and weekly cohorts are ``(day + 3) // 7`` (weeks start Monday).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class EngagementEvent(Base):
    """One thing that happened: who, where, when, and derived flags; never the message text."""

    __tablename__ = "engagement_events"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_engagement_events_time", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(160))
    """The idempotency key: the same event seen twice has the same key and is stored once."""
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime]
    day: Mapped[int]
    user_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    target_key: Mapped[str | None] = mapped_column(String(160))
    """The message replied to (or the thread's root), as an idempotency key."""
    target_user_id: Mapped[str | None] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(default=0)
    attachments: Mapped[int] = mapped_column(default=0)
    is_question: Mapped[bool] = mapped_column(default=False)
    sentiment: Mapped[float | None] = mapped_column(Float)
    from_staff: Mapped[bool] = mapped_column(default=False)


class _DayCounts:
    """The counts every daily rollup keeps (member days, community days, channel days)."""

    messages: Mapped[int] = mapped_column(default=0)
    reactions: Mapped[int] = mapped_column(default=0)
    replies: Mapped[int] = mapped_column(default=0)
    questions: Mapped[int] = mapped_column(default=0)
    p2p_replies: Mapped[int] = mapped_column(default=0)
    staff_replies: Mapped[int] = mapped_column(default=0)
    sentiment_sum: Mapped[float] = mapped_column(Float, default=0.0)
    sentiment_n: Mapped[int] = mapped_column(default=0)


class EngagementMemberDay(_DayCounts, Base):
    """Per community, day and member: what they did (the DAU/WAU/MAU source)."""

    __tablename__ = "engagement_member_days"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class EngagementDay(_DayCounts, Base):
    """Per community and day: how many members were active and what they did (DAU in one row)."""

    __tablename__ = "engagement_days"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[int] = mapped_column(default=0)
    """Members with a row in engagement_member_days for the day."""


class EngagementChannelDay(_DayCounts, Base):
    """Per community, channel, day and member: the same counts, for per-channel reports."""

    __tablename__ = "engagement_channel_days"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class EngagementEdge(Base):
    """Replies from one member to another on a day, in a channel: the reply graph."""

    __tablename__ = "engagement_edges"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_user: Mapped[str] = mapped_column(String(64), primary_key=True)
    to_user: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class EngagementMember(Base):
    """A member's join, first and last active, first posting and last leaving days."""

    __tablename__ = "engagement_members"
    __table_args__ = (
        # Covering: cohorts, joiners and joiners who never posted read the index alone.
        Index("ix_engagement_members_joined", "community_id", "joined_day", "posted_day", "weeks"),
        Index("ix_engagement_members_left", "community_id", "left_day"),
        Index("ix_engagement_members_last", "community_id", "last_day"),
        Index("ix_engagement_members_last_posted", "community_id", "last_posted_day"),
    )

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    joined_day: Mapped[int | None]
    first_day: Mapped[int | None]
    last_day: Mapped[int | None]
    posted_day: Mapped[int | None]
    """Their first day with a message (None: never posted)."""
    left_day: Mapped[int | None]
    """The last day they left the community (None: never left)."""
    last_posted_day: Mapped[int | None]
    """Their latest day with a message (None: never posted)."""
    weeks: Mapped[int | None] = mapped_column(BigInteger)
    """Their active weeks from the week they joined, a bit each: bit k is week k after the
    join week (retention reads one row a member). Meaningless while ``joined_day`` is None."""


BLOCK_DAYS = 60
"""Days per row of ``engagement_member_blocks`` (one bit a day, in a 64-bit integer)."""


class EngagementMemberBlock(Base):
    """A member's active days in one block of ``BLOCK_DAYS`` days, one bit a day.

    Members active in any period, read as one row per member and block rather than one per
    member and day: a 30-day window is two blocks at most, whatever day it ends on.
    """

    __tablename__ = "engagement_member_blocks"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    block: Mapped[int] = mapped_column(primary_key=True)
    """``day // BLOCK_DAYS``; bit ``day % BLOCK_DAYS`` is that day."""
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[int] = mapped_column(BigInteger, default=0)
    """The days they posted or reacted."""
    posted: Mapped[int] = mapped_column(BigInteger, default=0)
    """The days they posted."""


GAP_WINDOW = 92
"""The longest window (in days) ``engagement_member_gaps`` answers: three calendar months."""


class EngagementMemberGap(Base):
    """Per community and day: members active that day, by the day they were last active before.

    A member counts among the actives of the days ``first .. last`` once, on their first active
    day in it: the one whose previous active day is before ``first``. So a window's distinct
    actives are the sum over its days of the members whose ``since`` is before its first day,
    a few rows a day whatever the window (WAU, MAU, a past period). ``since`` is the previous
    active day, or ``day - GAP_WINDOW`` when that was longer ago (or never): exact for windows
    of up to ``GAP_WINDOW`` days. Kept by the writer, per new active (and posting) day.
    """

    __tablename__ = "engagement_member_gaps"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    since: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[int] = mapped_column(default=0)
    """Members active on ``day`` whose previous active day was ``since``."""
    posted: Mapped[int] = mapped_column(default=0)
    """Members who posted on ``day`` whose previous posting day was ``since``."""


class EngagementQuestionDay(Base):
    """Per community and day: the questions asked (and not deleted). Kept by triggers on
    ``engagement_questions``, so every insert and delete counts, whoever makes it."""

    __tablename__ = "engagement_question_days"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    asked: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0, server_default="0")
    """Of those, the ones answered by someone else (the rest of the row likewise)."""
    by_staff: Mapped[int] = mapped_column(default=0, server_default="0")
    within_hour: Mapped[int] = mapped_column(default=0, server_default="0")
    within_day: Mapped[int] = mapped_column(default=0, server_default="0")


class EngagementAnswerBucket(Base):
    """Per community, day asked and wait bucket (``_questions.WAIT_BOUNDS``): the answered
    questions. Kept by triggers on ``engagement_questions``; the median reads one bucket."""

    __tablename__ = "engagement_answer_buckets"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    answered: Mapped[int]


class EngagementAnswerWait(Base):
    """The exact first-response waits (microseconds) of the questions asked per day, by wait
    bucket. Kept by triggers on ``engagement_questions``."""

    __tablename__ = "engagement_answer_waits"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    wait_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    answered: Mapped[int]


class EngagementHelperDay(Base):
    """Per community, day asked and member: the questions they answered first. Kept by
    triggers on ``engagement_questions``."""

    __tablename__ = "engagement_helper_days"
    __table_args__ = (
        Index("ix_engagement_helper_days_top", "community_id", "day", "answers", "user_id"),
        Index("ix_engagement_helper_days_user", "community_id", "user_id", "day", "answers"),
    )

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    answers: Mapped[int]


class EngagementQuestion(Base):
    """A question and its first answer by someone else: response rate and unanswered lists."""

    __tablename__ = "engagement_questions"
    __table_args__ = (
        Index("ix_engagement_questions_open", "community_id", "answered_at"),
        Index("ix_engagement_questions_thread", "community_id", "thread_id"),
        # Covering: a period's questions, answers, waits and helpers read the index alone.
        Index(
            "ix_engagement_questions_day",
            "community_id",
            "day",
            "answered_at",
            "asked_at",
            "answered_by_staff",
            "answered_by",
            "channel_id",
        ),
        # The answered questions of a period (waits, staff share, helpers) without the rest.
        Index(
            "ix_engagement_questions_answered",
            "community_id",
            "day",
            "asked_at",
            "answered_at",
            "answered_by_staff",
            "answered_by",
            "channel_id",
            sqlite_where=text("answered_at IS NOT NULL"),
            postgresql_where=text("answered_at IS NOT NULL"),
        ),
    )

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    day: Mapped[int]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_by_staff: Mapped[bool | None]
    """Whether the first answer came from staff (moderators, admins, the staff role)."""


class EngagementChannel(Base):
    """The last stored message of a channel: where catch-up resumes."""

    __tablename__ = "engagement_channels"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_message_id: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(BigInteger)


class EngagementOptOut(Base):
    """A member who asked not to be tracked."""

    __tablename__ = "engagement_optouts"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]


class EngagementDigest(Base):
    """A weekly digest already sent (written before sending: it never goes out twice)."""

    __tablename__ = "engagement_digests"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    week: Mapped[int] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime]


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


EVENTS = _table(EngagementEvent)
MEMBER_DAYS = _table(EngagementMemberDay)
DAYS = _table(EngagementDay)
CHANNEL_DAYS = _table(EngagementChannelDay)
EDGES = _table(EngagementEdge)
MEMBERS = _table(EngagementMember)
MEMBER_BLOCKS = _table(EngagementMemberBlock)
QUESTIONS = _table(EngagementQuestion)
MEMBER_GAPS = _table(EngagementMemberGap)
QUESTION_DAYS = _table(EngagementQuestionDay)
ANSWER_BUCKETS = _table(EngagementAnswerBucket)
ANSWER_WAITS = _table(EngagementAnswerWait)
HELPER_DAYS = _table(EngagementHelperDay)
CHANNELS = _table(EngagementChannel)
OPTOUTS = _table(EngagementOptOut)


class EngagementAnnouncement(Base):
    """A post the announcement relay made, and the conversation counts last told about it."""

    __tablename__ = "engagement_announcements"
    __table_args__ = (Index("ix_engagement_announcements_time", "community_id", "posted_at"),)

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    """The post's message key: replies in its discussion and reactions to it target it."""
    message_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(256), default="")
    """The item's title as posted (the publisher's words, not a member's)."""
    told: Mapped[str] = mapped_column(String(120), default="")
    """The counts last published, so unchanged ones are not told again."""


class EngagementIntroRound(Base):
    """A round of introductions as introductions told it when the round ended (for the digest)."""

    __tablename__ = "engagement_intro_rounds"
    __table_args__ = (Index("ix_engagement_intro_rounds_time", "community_id", "closed_at"),)

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    closed_at: Mapped[datetime]
    people: Mapped[int] = mapped_column(Integer)
    groups: Mapped[int] = mapped_column(Integer)
    met: Mapped[int] = mapped_column(Integer)
    """Groups in which someone said they met."""


class EngagementModeration(Base):
    """Moderation's latest weekly figures (``ModerationWeek``), one row per community, for the
    digest's moderation line."""

    __tablename__ = "engagement_moderation"

    community_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime]
    reports: Mapped[int] = mapped_column(Integer, default=0)
    actions: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    escalations_open: Mapped[int] = mapped_column(Integer, default=0)
    oldest_open_seconds: Mapped[int | None] = mapped_column(Integer)
