"""reliability: listener failures kept after their retries; platform event ids already handled

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("error_id", sa.String(length=16), nullable=False),
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("feature", sa.String(length=32), nullable=False),
        sa.Column("listener", sa.String(length=100), nullable=False),
        sa.Column("event_kind", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("event", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("replayed_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_events")),
    )
    op.create_index(
        "ix_failed_events_status", "failed_events", ["status", "community_id"], unique=False
    )
    op.create_table(
        "handled_events",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("expires_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_handled_events")),
    )
    op.create_index(
        "ix_handled_events_expires_at", "handled_events", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_handled_events_expires_at", table_name="handled_events")
    op.drop_table("handled_events")
    op.drop_index("ix_failed_events_status", table_name="failed_events")
    op.drop_table("failed_events")
