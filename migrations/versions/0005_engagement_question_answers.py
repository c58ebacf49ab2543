"""engagement questions: who answered (staff or member), found by thread and by day

A question asked inside a thread is answered by a later message of someone else in the thread
(found by the thread index); reports read the questions of a period by day, and the share
answered by staff needs whether the first answer came from staff.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engagement_questions") as batch:
        batch.add_column(sa.Column("answered_by_staff", sa.Boolean(), nullable=True))
    op.create_index(
        "ix_engagement_questions_thread", "engagement_questions", ["community_id", "thread_id"]
    )
    op.create_index(
        "ix_engagement_questions_day", "engagement_questions", ["community_id", "day"]
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_questions_day", table_name="engagement_questions")
    op.drop_index("ix_engagement_questions_thread", table_name="engagement_questions")
    with op.batch_alter_table("engagement_questions") as batch:
        batch.drop_column("answered_by_staff")
