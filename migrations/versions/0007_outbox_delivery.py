"""outbox: delivery state (status, due time, attempt start, where it landed, DM or channel)

The outbox had no users before this revision; a row of an older process (none are expected)
becomes a pending channel delivery due at once.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="channel")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=8), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("due_at", bot.db.base.UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column("attempted_at", bot.db.base.UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column("message_channel_id", sa.String(length=64)))
    op.execute("UPDATE outbox SET due_at = created_at")
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column(
            "due_at", existing_type=bot.db.base.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index("ix_outbox_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_outbox_lane", ["community_id", "channel_id", "status", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lane")
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_column("message_channel_id")
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("status")
        batch_op.drop_column("kind")
        batch_op.create_index("ix_outbox_pending", ["sent_at", "created_at"], unique=False)
