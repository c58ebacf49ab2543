"""engagement: every report figure for any period read from one row a member, or an index

Members gain the day they last posted (communicators of a period ending today are one index
range, as active members are with the new last-day index) and their active weeks from the
week they joined, a bit each (the retention matrix is one row a member, read off the join-day
index, which now covers it). The questions' day index covers what a report reads of them.
Both columns are filled from the member days.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = "engagement_members_fill"
_MATCH = (
    f"{_FILL}.community_id = engagement_members.community_id "
    f"AND {_FILL}.user_id = engagement_members.user_id"
)


def upgrade() -> None:
    with op.batch_alter_table("engagement_members") as batch:
        batch.add_column(sa.Column("last_posted_day", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("weeks", sa.BigInteger(), nullable=True))
    # One grouped pass over the member days (a subquery per member would scan them per member).
    offset = "(d.day + 3) / 7 - (m.joined_day + 3) / 7"
    op.execute(
        f"CREATE TEMPORARY TABLE {_FILL} AS SELECT m.community_id, m.user_id, "
        "max(CASE WHEN d.messages > 0 THEN d.day END) AS last_posted, "
        f"sum(DISTINCT CASE WHEN {offset} BETWEEN 0 AND 62 "
        f"THEN CAST(1 AS BIGINT) << ({offset}) ELSE 0 END) AS weeks "
        # CROSS JOIN: SQLite reads the member days in order and each member by key (without
        # statistics it scanned the member days once per member); PostgreSQL plans it freely.
        "FROM engagement_member_days AS d CROSS JOIN engagement_members AS m "
        "WHERE m.community_id = d.community_id AND m.user_id = d.user_id "
        "GROUP BY m.community_id, m.user_id"
    )
    op.execute(f"CREATE INDEX {_FILL}_key ON {_FILL} (community_id, user_id)")
    op.execute(
        f"UPDATE engagement_members SET last_posted_day = (SELECT last_posted FROM {_FILL} "
        f"WHERE {_MATCH}), weeks = CASE WHEN joined_day IS NULL THEN NULL "
        f"ELSE coalesce((SELECT weeks FROM {_FILL} WHERE {_MATCH}), 0) END"
    )
    op.execute(f"DROP TABLE {_FILL}")
    op.drop_index("ix_engagement_members_joined", table_name="engagement_members")
    op.create_index(
        "ix_engagement_members_joined",
        "engagement_members",
        ["community_id", "joined_day", "posted_day", "weeks"],
    )
    op.create_index(
        "ix_engagement_members_last", "engagement_members", ["community_id", "last_day"]
    )
    op.create_index(
        "ix_engagement_members_last_posted",
        "engagement_members",
        ["community_id", "last_posted_day"],
    )
    op.drop_index("ix_engagement_questions_day", table_name="engagement_questions")
    op.create_index(
        "ix_engagement_questions_day",
        "engagement_questions",
        [
            "community_id",
            "day",
            "answered_at",
            "asked_at",
            "answered_by_staff",
            "answered_by",
            "channel_id",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_questions_day", table_name="engagement_questions")
    op.create_index("ix_engagement_questions_day", "engagement_questions", ["community_id", "day"])
    op.drop_index("ix_engagement_members_last_posted", table_name="engagement_members")
    op.drop_index("ix_engagement_members_last", table_name="engagement_members")
    op.drop_index("ix_engagement_members_joined", table_name="engagement_members")
    op.create_index(
        "ix_engagement_members_joined", "engagement_members", ["community_id", "joined_day"]
    )
    with op.batch_alter_table("engagement_members") as batch:
        batch.drop_column("weeks")
        batch.drop_column("last_posted_day")
