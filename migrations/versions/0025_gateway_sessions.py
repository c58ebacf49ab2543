"""Discord gateway sessions kept across restarts: what a killed process received is replayed

``gateway_sessions`` holds, per bot and shard, the gateway session (its id and the URL to
resume it at) and the last sequence whose event and everything before it Steward has handled
and stored. A starting process resumes that session from that sequence, so Discord sends
again what a killed process had received but not stored.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_sessions",
        sa.Column("bot_id", sa.String(length=32), nullable=False),
        sa.Column("shard_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("shard_count", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("resume_url", sa.String(length=400), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "shard_id", name=op.f("pk_gateway_sessions")),
    )


def downgrade() -> None:
    op.drop_table("gateway_sessions")
