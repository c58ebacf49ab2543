"""Announcements' tables: the feeds a community follows, the items each has seen, the log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class AnnouncementFeed(Base):
    """One feed a community follows, where its items go, and how polling it is going."""

    __tablename__ = "announcements_feeds"
    __table_args__ = (
        UniqueConstraint("community_id", "url", name="uq_announcements_feeds_url"),
        Index("ix_announcements_feeds_due", "paused", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    channel_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256), default="")
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]
    first_fetch: Mapped[str] = mapped_column(String(16), default="nothing")
    compare: Mapped[str] = mapped_column(String(200), default="")
    """Comma-separated fields whose change re-announces an item."""
    max_age_s: Mapped[int | None]
    interval_s: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_poll_at: Mapped[datetime]
    last_ok_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    primed: Mapped[bool] = mapped_column(default=False)
    """False until the first fetch stored what was already there."""


class AnnouncementSeen(Base):
    """An item a feed has shown, with a fingerprint of the fields compared for edits."""

    __tablename__ = "announcements_seen"

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("announcements_feeds.id", ondelete="CASCADE"), primary_key=True
    )
    item_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime]


class AnnouncementLog(Base):
    """What became of each item: handed over for posting, or skipped and why."""

    __tablename__ = "announcements_log"
    __table_args__ = (Index("ix_announcements_log_feed", "feed_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("announcements_feeds.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(256))
    link: Mapped[str | None] = mapped_column(String(2048))
    outcome: Mapped[str] = mapped_column(String(16))
    """``pending``/``edited`` (handed to the outbox), ``posted``, ``failed`` or ``skipped``."""
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
