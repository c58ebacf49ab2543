"""engagement: distinct actives of any window and questions asked per day, a few rows a day

``engagement_member_gaps`` holds, per community and day, the members active (and posting) that
day by the day they were last active before: WAU, MAU, communicators and a past period's
actives are sums over the window's days, filled here from the member days.
``engagement_question_days`` counts the questions asked per day, kept by triggers on
``engagement_questions`` (every insert and delete, whoever makes it), and the answered
questions get a partial index of their own.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOW = 92
"""``_models.GAP_WINDOW`` when this migration was written."""
_SINCE = f"CASE WHEN prev IS NULL OR prev < day - {WINDOW} THEN day - {WINDOW} ELSE prev END"
_PREV = (
    "SELECT community_id, day, lag(day) OVER (PARTITION BY community_id, user_id ORDER BY day) "
    "AS prev FROM engagement_member_days"
)
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER engagement_questions_asked AFTER INSERT ON engagement_questions BEGIN "
    "INSERT INTO engagement_question_days (community_id, day, asked) "
    "VALUES (NEW.community_id, NEW.day, 1) ON CONFLICT (community_id, day) "
    "DO UPDATE SET asked = engagement_question_days.asked + 1; END",
    "CREATE TRIGGER engagement_questions_unasked AFTER DELETE ON engagement_questions BEGIN "
    "UPDATE engagement_question_days SET asked = asked - 1 "
    "WHERE community_id = OLD.community_id AND day = OLD.day; END",
)
_PG_TRIGGERS = (
    "CREATE FUNCTION engagement_questions_asked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO engagement_question_days (community_id, day, asked) "
    "SELECT community_id, day, count(*) FROM asked_rows GROUP BY community_id, day "
    "ON CONFLICT (community_id, day) "
    "DO UPDATE SET asked = engagement_question_days.asked + excluded.asked; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER engagement_questions_asked AFTER INSERT ON engagement_questions "
    "REFERENCING NEW TABLE AS asked_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION engagement_questions_asked()",
    "CREATE FUNCTION engagement_questions_unasked() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE engagement_question_days AS d SET asked = d.asked - o.n "
    "FROM (SELECT community_id, day, count(*) AS n FROM unasked_rows "
    "GROUP BY community_id, day) AS o WHERE d.community_id = o.community_id AND d.day = o.day; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER engagement_questions_unasked AFTER DELETE ON engagement_questions "
    "REFERENCING OLD TABLE AS unasked_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION engagement_questions_unasked()",
)


def upgrade() -> None:
    op.create_table(
        "engagement_member_gaps",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("since", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "day", "since"),
    )
    op.create_table(
        "engagement_question_days",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "day"),
    )
    op.execute(
        "INSERT INTO engagement_member_gaps (community_id, day, since, active, posted) "
        "SELECT community_id, day, since, sum(a), sum(p) FROM ("
        f"SELECT community_id, day, {_SINCE} AS since, 1 AS a, 0 AS p FROM ({_PREV}) AS x "
        f"UNION ALL SELECT community_id, day, {_SINCE} AS since, 0 AS a, 1 AS p "
        f"FROM ({_PREV} WHERE messages > 0) AS y"
        ") AS g GROUP BY community_id, day, since"
    )
    op.execute(
        "INSERT INTO engagement_question_days (community_id, day, asked) "
        "SELECT community_id, day, count(*) FROM engagement_questions "
        "GROUP BY community_id, day"
    )
    pg = op.get_bind().dialect.name == "postgresql"
    for sql in _PG_TRIGGERS if pg else _SQLITE_TRIGGERS:
        op.execute(sql)
    op.create_index(
        "ix_engagement_questions_answered",
        "engagement_questions",
        [
            "community_id",
            "day",
            "asked_at",
            "answered_at",
            "answered_by_staff",
            "answered_by",
            "channel_id",
        ],
        sqlite_where=sa.text("answered_at IS NOT NULL"),
        postgresql_where=sa.text("answered_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_engagement_questions_answered", table_name="engagement_questions")
    pg = op.get_bind().dialect.name == "postgresql"
    for name in ("engagement_questions_asked", "engagement_questions_unasked"):
        if pg:
            op.execute(f"DROP TRIGGER {name} ON engagement_questions")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("engagement_question_days")
    op.drop_table("engagement_member_gaps")
