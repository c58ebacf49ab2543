"""engagement: answers by staff, questions by thread and day, any period read quickly

A question asked inside a thread is answered by a later message of someone else in the thread
(found by the thread index); reports read the questions of a period by day, and the share
answered by staff needs whether the first answer came from staff. Members gain the day they
first posted and the day they last left (joiners who never posted, departures), found by
day; ``engagement_member_blocks`` holds each member's active and posting days as bits, so the
members active in any period are one row per member and 60-day block. Both are filled from
what is stored.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("engagement_questions") as batch:
        batch.add_column(sa.Column("answered_by_staff", sa.Boolean(), nullable=True))
    op.create_index(
        "ix_engagement_questions_thread", "engagement_questions", ["community_id", "thread_id"]
    )
    op.create_index("ix_engagement_questions_day", "engagement_questions", ["community_id", "day"])
    with op.batch_alter_table("engagement_members") as batch:
        batch.add_column(sa.Column("posted_day", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("left_day", sa.Integer(), nullable=True))
    op.create_index(
        "ix_engagement_members_joined", "engagement_members", ["community_id", "joined_day"]
    )
    op.create_index("ix_engagement_members_left", "engagement_members", ["community_id", "left_day"])
    op.create_table(
        "engagement_member_blocks",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.BigInteger(), nullable=False),
        sa.Column("posted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "block", "user_id"),
    )
    one = "CAST(1 AS BIGINT)"
    op.execute(
        "INSERT INTO engagement_member_blocks (community_id, block, user_id, active, posted) "
        f"SELECT community_id, day / 60, user_id, sum({one} << (day % 60)), "
        f"sum(CASE WHEN messages > 0 THEN {one} << (day % 60) ELSE 0 END) "
        "FROM engagement_member_days GROUP BY community_id, day / 60, user_id"
    )
    op.execute(
        "UPDATE engagement_members SET posted_day = (SELECT min(d.day) "
        "FROM engagement_member_days AS d WHERE d.community_id = engagement_members.community_id "
        "AND d.user_id = engagement_members.user_id AND d.messages > 0), "
        "left_day = (SELECT max(e.day) FROM engagement_events AS e "
        "WHERE e.community_id = engagement_members.community_id "
        "AND e.user_id = engagement_members.user_id AND e.kind = 'leave')"
    )


def downgrade() -> None:
    op.drop_table("engagement_member_blocks")
    op.drop_index("ix_engagement_members_left", table_name="engagement_members")
    op.drop_index("ix_engagement_members_joined", table_name="engagement_members")
    with op.batch_alter_table("engagement_members") as batch:
        batch.drop_column("left_day")
        batch.drop_column("posted_day")
    op.drop_index("ix_engagement_questions_day", table_name="engagement_questions")
    op.drop_index("ix_engagement_questions_thread", table_name="engagement_questions")
    with op.batch_alter_table("engagement_questions") as batch:
        batch.drop_column("answered_by_staff")
