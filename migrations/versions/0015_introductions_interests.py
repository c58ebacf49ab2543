"""introductions: interests from onboarding, opting out of a pool channel, offers to newcomers,
group conversations found by id;
engagement: the rounds of introductions the weekly digest reports

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("introductions_members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("opted_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("interests", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("offered_at", bot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("introductions_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_introductions_groups_conversation",
            ["community_id", "conversation_id"],
            unique=False,
        )
    op.create_table(
        "engagement_intro_rounds",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("closed_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "number", name=op.f("pk_engagement_intro_rounds")),
    )
    with op.batch_alter_table("engagement_intro_rounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_engagement_intro_rounds_time", ["community_id", "closed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("engagement_intro_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_engagement_intro_rounds_time")
    op.drop_table("engagement_intro_rounds")
    with op.batch_alter_table("introductions_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_introductions_groups_conversation")
    with op.batch_alter_table("introductions_members", schema=None) as batch_op:
        batch_op.drop_column("offered_at")
        batch_op.drop_column("interests")
        batch_op.drop_column("opted_out")
