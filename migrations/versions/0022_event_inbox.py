"""event inbox: a Slack event is stored before it is acked, and deleted once handled

A process killed after Bolt's ack lost the events it had acked and not yet handled (Slack
would have redelivered them, had they not been acked). ``inbox_events`` holds each one's raw
body from just before the ack until its id is noted as handled; leftovers are handed to the
listeners again on start.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_events",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inbox_events")),
    )
    op.create_index(
        "ix_inbox_events_received_at", "inbox_events", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_events_received_at", table_name="inbox_events")
    op.drop_table("inbox_events")
