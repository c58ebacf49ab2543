"""failures kept on passing trouble are tried again by themselves: when, how often, who has one

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("failed_events") as batch:
        batch.add_column(
            sa.Column("retry_at", bot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("retries", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("claimed_until", bot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_failed_events_retry_at", ["retry_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("failed_events") as batch:
        batch.drop_index("ix_failed_events_retry_at")
        batch.drop_column("claimed_until")
        batch.drop_column("retries")
        batch.drop_column("retry_at")
