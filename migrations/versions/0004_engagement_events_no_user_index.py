"""engagement events: drop the per-member index

The raw events are written far more often than they are searched by member (only an opt-out
does, and it already scans them for the replies that name the member). Members post in random
order, so every row landed on a random page of that index: half the cost of each insert on
SQLite (9.7 against 4.2 µs a row, measured with 2,000 members).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_engagement_events_user", table_name="engagement_events")


def downgrade() -> None:
    op.create_index(
        "ix_engagement_events_user",
        "engagement_events",
        ["community_id", "user_id"],
        unique=False,
    )
