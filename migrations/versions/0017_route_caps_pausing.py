"""announcements: a route's cap (N posts per window) and its pausing after permission failures

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements_routes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cap_posts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cap_window_s", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("announcements_routes", schema=None) as batch_op:
        batch_op.drop_column("paused_reason")
        batch_op.drop_column("paused")
        batch_op.drop_column("cap_window_s")
        batch_op.drop_column("cap_posts")
