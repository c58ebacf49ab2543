"""announcements: destinations (routes) with filters, templates, mentions and discussions;
engagement: which messages are announcements, and their conversation counts

Each feed's single channel becomes its first route, posting plain text without a discussion as
before; the delivery log learns which route a row is about and where the post landed. The feeds'
old channel column stays, unused (dropping it would rebuild the table on SQLite).

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements_routes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("style", sa.String(length=8), nullable=False),
        sa.Column("mention_role_id", sa.String(length=64), nullable=True),
        sa.Column("discussion", sa.String(length=8), nullable=False),
        sa.Column("crosspost", sa.Boolean(), nullable=False),
        sa.Column("opening", sa.String(length=300), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["announcements_feeds.id"],
            name=op.f("fk_announcements_routes_feed_id_announcements_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements_routes")),
    )
    with op.batch_alter_table("announcements_routes", schema=None) as batch_op:
        batch_op.create_index("ix_announcements_routes_feed", ["feed_id"], unique=False)
    # Every feed keeps posting where and as it did: plain text, no discussion.
    op.execute(
        "INSERT INTO announcements_routes (feed_id, channel_id, filter, template, style, "
        "mention_role_id, discussion, crosspost, opening, added_by, added_at) "
        "SELECT id, channel_id, '', '', 'text', NULL, 'none', false, '', added_by, added_at "
        "FROM announcements_feeds"
    )
    with op.batch_alter_table("announcements_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("thread_id", sa.String(length=64), nullable=True))
        for name in ("replies", "members", "reactions", "first_reply_s", "questions", "answered"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.create_index("ix_announcements_log_message", ["message_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_announcements_log_route_id_announcements_routes"),
            "announcements_routes",
            ["route_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_table(
        "engagement_announcements",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("posted_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("told", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "key", name=op.f("pk_engagement_announcements")),
    )
    with op.batch_alter_table("engagement_announcements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_engagement_announcements_time", ["community_id", "posted_at"], unique=False
        )
    # announcements_feeds.channel_id stays: on SQLite, rebuilding a parent table to drop it
    # would cascade-delete every feed's seen items and log (foreign keys are on).


def downgrade() -> None:
    with op.batch_alter_table("announcements_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_announcements_log_route_id_announcements_routes"), type_="foreignkey"
        )
        batch_op.drop_index("ix_announcements_log_message")
        for name in ("replies", "members", "reactions", "first_reply_s", "questions", "answered"):
            batch_op.drop_column(name)
        batch_op.drop_column("thread_id")
        batch_op.drop_column("message_id")
        batch_op.drop_column("route_id")
    with op.batch_alter_table("engagement_announcements", schema=None) as batch_op:
        batch_op.drop_index("ix_engagement_announcements_time")
    op.drop_table("engagement_announcements")
    with op.batch_alter_table("announcements_routes", schema=None) as batch_op:
        batch_op.drop_index("ix_announcements_routes_feed")
    op.drop_table("announcements_routes")
