"""several processes on one PostgreSQL: each recurring job runs once per community and slot

``job_runs`` holds one row per (job, community, slot): the process that inserts it runs the job
there; the others, firing the same slot, find it and skip. ``lease_until`` lets a run whose
process was killed be taken over once it has passed.

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
        "job_runs",
        sa.Column("job_id", sa.String(length=120), nullable=False),
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("slot", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=False),
        sa.Column("claimed_at", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", bot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_job_runs_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "community_id", "slot", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs") as batch:
        batch.create_index("ix_job_runs_unfinished", ["finished_at", "lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_index("ix_job_runs_unfinished")
    op.drop_table("job_runs")
