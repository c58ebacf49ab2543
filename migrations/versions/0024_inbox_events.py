"""Slack events stored before they are acknowledged: an acked event is never lost to a kill

``inbox_events`` holds each Slack event (its ``event_id`` as ``key``, the workspace, the raw
body, when it arrived) from before its ack goes out until its listeners are done; rows left by
a stopped process are handled again, in ``id`` order, when Steward starts.

``onboarding_config.seen_at``: when Steward was last ready in the community. Discord does not
send again the joins made while no Steward ran; on ready, onboarding welcomes the members who
joined after it and were never stored.

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_events")),
        sa.UniqueConstraint("key", name=op.f("uq_inbox_events_key")),
    )
    with op.batch_alter_table("onboarding_config") as batch:
        batch.add_column(
            sa.Column("seen_at", bot.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("onboarding_config") as batch:
        batch.drop_column("seen_at")
    op.drop_table("inbox_events")
