"""Announcements' tables: the feeds a community follows, the items each has seen, the log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
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
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    """Where items went before routes; migration 0009 made it the feed's first route (unused)."""
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
    kind: Mapped[str] = mapped_column(String(16), default="feed", server_default="feed")
    """``feed`` (polled) or ``webhook`` (items arrive signed at Steward's HTTP endpoint)."""


class AnnouncementHook(Base):
    """What signs a source's pushes: a webhook's scheme and secrets, or a WebSub subscription.

    The address path holds ``token`` (not a secret: the signature is what is checked).
    """

    __tablename__ = "announcements_hooks"

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("announcements_feeds.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    scheme: Mapped[str] = mapped_column(String(16))
    """``github``, ``standard`` or ``websub``."""
    secret: Mapped[str] = mapped_column(String(128))
    old_secret: Mapped[str | None] = mapped_column(String(128))
    """The secret before the last rotation, still accepted until ``old_until``."""
    old_until: Mapped[datetime | None]
    mapping: Mapped[str] = mapped_column(Text, default="")
    """JSON: item field -> dotted path in the payload (empty: the scheme's defaults)."""
    hub_url: Mapped[str | None] = mapped_column(String(2048))
    """WebSub: the hub the feed named."""
    topic: Mapped[str | None] = mapped_column(String(2048))
    """WebSub: the topic subscribed to (the feed's ``rel="self"`` address)."""
    pending: Mapped[str | None] = mapped_column(String(16))
    """WebSub: the mode (subscribe/unsubscribe) Steward asked the hub for, awaiting its check."""
    lease_until: Mapped[datetime | None]
    """WebSub: when the hub's subscription ends unless renewed."""


class AnnouncementReplay(Base):
    """A delivery id accepted from a webhook, kept for the replay horizon, then purged."""

    __tablename__ = "announcements_replays"
    __table_args__ = (Index("ix_announcements_replays_seen", "seen_at"),)

    feed_id: Mapped[int] = mapped_column(
        ForeignKey("announcements_feeds.id", ondelete="CASCADE"), primary_key=True
    )
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime]


class AnnouncementRoute(Base):
    """One destination of a feed: where its items go, which ones, how they look, who is pinged."""

    __tablename__ = "announcements_routes"
    __table_args__ = (Index("ix_announcements_routes_feed", "feed_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("announcements_feeds.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    filter: Mapped[str] = mapped_column(Text, default="")
    """A filter expression (``_filters``); empty lets every item through."""
    template: Mapped[str] = mapped_column(Text, default="")
    """The post's text as a ``{field}`` template; empty: the style's default."""
    style: Mapped[str] = mapped_column(String(8), default="embed")
    """``embed`` (an embed on Discord, Block Kit on Slack) or ``text`` (plain text)."""
    mention_role_id: Mapped[str | None] = mapped_column(String(64))
    """The one role (Slack: user group) a post may ping, named by a manager."""
    discussion: Mapped[str] = mapped_column(String(8), default="thread")
    """``thread``: each post opens a discussion; ``none``: it does not."""
    crosspost: Mapped[bool] = mapped_column(default=False)
    """Publish each post to the channels following this announcement channel (Discord)."""
    opening: Mapped[str] = mapped_column(String(300), default="")
    """The first line posted in each discussion; empty posts none (Slack: the thread needs one)."""
    tags: Mapped[str] = mapped_column(Text, default="", server_default="")
    """A forum route's tags, each chosen by a filter: ``Release: title contains 'release';
    News`` (a tag without a filter goes on every post); empty: none."""
    added_by: Mapped[str] = mapped_column(String(64), default="")
    added_at: Mapped[datetime]
    cap_posts: Mapped[int | None]
    """At most this many posts per ``cap_window_s`` seconds; the rest become one summary post."""
    cap_window_s: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Stopped after failing on a permission; a manager resumes it (``route resume``)."""
    paused_reason: Mapped[str | None] = mapped_column(String(200))


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
    __table_args__ = (
        Index("ix_announcements_log_feed", "feed_id", "at"),
        Index("ix_announcements_log_message", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("announcements_feeds.id", ondelete="CASCADE"))
    route_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcements_routes.id", ondelete="CASCADE")
    )
    """The destination this row is about; None for what concerns the item wherever it goes."""
    item_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(256))
    link: Mapped[str | None] = mapped_column(String(2048))
    outcome: Mapped[str] = mapped_column(String(16))
    """``pending``/``edited`` (handed to the outbox), ``posted``, ``failed``, ``filtered`` or
    ``skipped``."""
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
    message_id: Mapped[str | None] = mapped_column(String(64))
    """Where the post landed (``posted``), for its discussion and its stats."""
    thread_id: Mapped[str | None] = mapped_column(String(64))
    """The discussion the post opened, once opened."""
    replies: Mapped[int | None]
    """Member messages in the post's discussion, as engagement last counted them."""
    members: Mapped[int | None]
    reactions: Mapped[int | None]
    first_reply_s: Mapped[int | None]
    """Seconds from the post to the first member reply."""
    questions: Mapped[int | None]
    answered: Mapped[int | None]
