"""engagement tables

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engagement_channel_days",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("p2p_replies", sa.Integer(), nullable=False),
        sa.Column("staff_replies", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id", "channel_id", "day", "user_id", name=op.f("pk_engagement_channel_days")
        ),
    )
    op.create_table(
        "engagement_channels",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("last_message_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "channel_id", name=op.f("pk_engagement_channels")),
    )
    op.create_table(
        "engagement_digests",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "week", name=op.f("pk_engagement_digests")),
    )
    op.create_table(
        "engagement_edges",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("from_user", sa.String(length=64), nullable=False),
        sa.Column("to_user", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id",
            "day",
            "channel_id",
            "from_user",
            "to_user",
            name=op.f("pk_engagement_edges"),
        ),
    )
    op.create_table(
        "engagement_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("target_key", sa.String(length=160), nullable=True),
        sa.Column("target_user_id", sa.String(length=64), nullable=True),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("is_question", sa.Boolean(), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_events")),
        sa.UniqueConstraint("community_id", "key", name=op.f("uq_engagement_events_community_id")),
    )
    op.create_index(
        "ix_engagement_events_time", "engagement_events", ["community_id", "at"], unique=False
    )
    op.create_index(
        "ix_engagement_events_user", "engagement_events", ["community_id", "user_id"], unique=False
    )
    op.create_table(
        "engagement_days",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("p2p_replies", sa.Integer(), nullable=False),
        sa.Column("staff_replies", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "day", name=op.f("pk_engagement_days")),
    )
    op.create_table(
        "engagement_member_days",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("p2p_replies", sa.Integer(), nullable=False),
        sa.Column("staff_replies", sa.Integer(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id", "day", "user_id", name=op.f("pk_engagement_member_days")
        ),
    )
    op.create_table(
        "engagement_members",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("joined_day", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Integer(), nullable=True),
        sa.Column("last_day", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_engagement_members")),
    )
    op.create_table(
        "engagement_optouts",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_engagement_optouts")),
    )
    op.create_table(
        "engagement_questions",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("asked_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("answered_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("community_id", "key", name=op.f("pk_engagement_questions")),
    )
    op.create_index(
        "ix_engagement_questions_open",
        "engagement_questions",
        ["community_id", "answered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_questions_open", table_name="engagement_questions")
    op.drop_table("engagement_questions")
    op.drop_table("engagement_optouts")
    op.drop_table("engagement_members")
    op.drop_table("engagement_member_days")
    op.drop_table("engagement_days")
    op.drop_index("ix_engagement_events_user", table_name="engagement_events")
    op.drop_index("ix_engagement_events_time", table_name="engagement_events")
    op.drop_table("engagement_events")
    op.drop_table("engagement_edges")
    op.drop_table("engagement_digests")
    op.drop_table("engagement_channels")
    op.drop_table("engagement_channel_days")
