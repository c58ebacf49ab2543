"""moderation: escalations to the company (who raised them, the signed webhook) and the weekly
duty schedule; engagement: moderation's latest weekly figures for the digest

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "moderation_escalation_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raised", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_moderation_escalation_members_case_id_moderation_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_escalation_members")),
        sa.UniqueConstraint("case_id", "user_id", name="uq_moderation_escalation_members_user"),
    )
    op.create_table(
        "moderation_escalation_hooks",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_moderation_escalation_hooks_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_moderation_escalation_hooks")),
    )
    op.create_table(
        "moderation_duty_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_moderation_duty_slots_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_duty_slots")),
        sa.UniqueConstraint(
            "community_id", "user_id", "weekday", "start_minute", name="uq_moderation_duty_slots"
        ),
    )
    op.create_table(
        "engagement_moderation",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("escalations_open", sa.Integer(), nullable=False),
        sa.Column("oldest_open_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_engagement_moderation")),
    )


def downgrade() -> None:
    op.drop_table("engagement_moderation")
    op.drop_table("moderation_duty_slots")
    op.drop_table("moderation_escalation_hooks")
    op.drop_table("moderation_escalation_members")
