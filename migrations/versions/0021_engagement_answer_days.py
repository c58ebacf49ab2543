"""engagement: answered questions per day, kept by triggers, so any period's figures are sums

``engagement_question_days`` gains, per community and day a question was asked: how many of
them are answered, answered by staff, within an hour and within a day. For the exact median
first response, ``engagement_answer_buckets`` counts the answered questions per day and wait
bucket, and ``engagement_answer_waits`` holds the exact waits (microseconds) by bucket, so a
report reads only the bucket the median falls in. ``engagement_helper_days`` counts each
member's first answers per day, for the top helpers. Triggers on ``engagement_questions``
keep them all on every insert, answer, change of answer, opt-out and delete, whoever makes it.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAIT_BOUNDS = (
    *(10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2400, 3000),
    *(3600, 4500, 5400, 7200, 9000, 10800, 14400, 18000, 21600, 28800, 36000, 43200, 57600),
    *(72000, 86400, 108000, 129600, 172800, 216000, 259200, 345600, 432000, 604800, 1209600),
    2592000,
)
"""``_questions.WAIT_BOUNDS`` when this migration was written (seconds; a bucket holds the
waits up to its bound, the last one everything longer)."""
HOUR_US, DAY_US = 3_600_000_000, 86_400_000_000
_ROW = "community_id, day, asked_at, answered_at, answered_by, answered_by_staff"
_SQLITE_US = (
    "((strftime('%s', {r}.answered_at) - strftime('%s', {r}.asked_at)) * 1000000 "
    "+ CAST(substr({r}.answered_at, 21, 6) AS INTEGER) "
    "- CAST(substr({r}.asked_at, 21, 6) AS INTEGER))"
)
"""The exact wait in microseconds of a row (SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff``)."""
_PG_US = "(extract(epoch FROM {r}.answered_at - {r}.asked_at) * 1000000)::bigint"


def _bucket(us: str) -> str:
    steps = " ".join(f"WHEN {us} <= {b * 1_000_000} THEN {i}" for i, b in enumerate(WAIT_BOUNDS))
    return f"CASE {steps} ELSE {len(WAIT_BOUNDS)} END"


def _waits(rows: str, us: str) -> str:
    """``rows`` (the question columns and a sign ``s``: +1 added, -1 taken away) as the
    answered ones with their wait ``us`` and its ``bucket``."""
    return (
        f"(SELECT *, {_bucket('us')} AS bucket FROM (SELECT community_id, day, answered_by, "
        f"answered_by_staff, s, {us.format(r='d')} AS us FROM ({rows}) AS d "
        "WHERE answered_at IS NOT NULL) AS u) AS w"
    )


def _add(table: str, keys: str, values: str, select: str) -> str:
    """``INSERT … SELECT …`` adding ``values`` onto the rows of ``keys`` (both dialects)."""
    sets = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values.split(", "))
    return (
        f"INSERT INTO {table} ({keys}, {values}) {select} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )


_DAY_VALUES = "answered, by_staff, within_hour, within_day"


def _statements(w: str, takes: bool) -> list[str]:
    """The upserts from ``w`` (``_waits``), grouped; then, when answers were taken away, the
    rows left at zero go."""
    done = [
        _add(
            "engagement_question_days",
            "community_id, day",
            f"asked, {_DAY_VALUES}",
            "SELECT community_id, day, 0, sum(s), "
            "sum(CASE WHEN answered_by_staff THEN s ELSE 0 END), "
            f"sum(CASE WHEN us <= {HOUR_US} THEN s ELSE 0 END), "
            f"sum(CASE WHEN us <= {DAY_US} THEN s ELSE 0 END) "
            f"FROM {w} WHERE true GROUP BY community_id, day",
        ),
        _add(
            "engagement_answer_buckets",
            "community_id, day, bucket",
            "answered",
            f"SELECT community_id, day, bucket, sum(s) FROM {w} WHERE true "
            "GROUP BY community_id, day, bucket",
        ),
        _add(
            "engagement_answer_waits",
            "community_id, bucket, day, wait_us",
            "answered",
            f"SELECT community_id, bucket, day, us, sum(s) FROM {w} WHERE true "
            "GROUP BY community_id, bucket, day, us",
        ),
        _add(
            "engagement_helper_days",
            "community_id, day, user_id",
            "answers",
            f"SELECT community_id, day, answered_by, sum(s) FROM {w} "
            "WHERE answered_by IS NOT NULL GROUP BY community_id, day, answered_by",
        ),
    ]
    if takes:
        done += [
            "DELETE FROM engagement_answer_waits WHERE answered = 0 AND EXISTS (SELECT 1 "
            f"FROM {w} WHERE s < 0 AND w.community_id = engagement_answer_waits.community_id "
            "AND w.bucket = engagement_answer_waits.bucket "
            "AND w.day = engagement_answer_waits.day AND w.us = engagement_answer_waits.wait_us)",
            "DELETE FROM engagement_helper_days WHERE answers = 0 AND EXISTS (SELECT 1 "
            f"FROM {w} WHERE s < 0 AND w.community_id = engagement_helper_days.community_id "
            "AND w.day = engagement_helper_days.day "
            "AND w.answered_by = engagement_helper_days.user_id)",
        ]
    return done


def _sqlite_rows(r: str, sign: int) -> str:
    cols = ", ".join(f"{r}.{c} AS {c}" for c in _ROW.split(", "))
    return f"SELECT {cols}, {sign} AS s"


def _sqlite_part(r: str, sign: int) -> str:
    """The statements adding (``sign`` 1) or taking away (-1) the answer of row ``r``."""
    w = _waits(_sqlite_rows(r, sign), _SQLITE_US)
    return " ".join(f"{sql};" for sql in _statements(w, sign < 0))


_CHANGED = ("answered_at", "answered_by", "answered_by_staff", "asked_at", "day")
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER engagement_questions_answer_in AFTER INSERT ON engagement_questions "
    f"WHEN NEW.answered_at IS NOT NULL BEGIN {_sqlite_part('NEW', 1)} END",
    "CREATE TRIGGER engagement_questions_answer_out AFTER DELETE ON engagement_questions "
    f"WHEN OLD.answered_at IS NOT NULL BEGIN {_sqlite_part('OLD', -1)} END",
    "CREATE TRIGGER engagement_questions_answer_moved AFTER UPDATE ON engagement_questions WHEN "
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _CHANGED)
    + f" BEGIN {_sqlite_part('OLD', -1)} {_sqlite_part('NEW', 1)} END",
)


def _pg_rows(table: str, sign: int, alias: str, pairs: str = "") -> str:
    cols = ", ".join(f"{alias}.{c}" for c in _ROW.split(", "))
    return f"SELECT {cols}, {sign} AS s FROM {pairs or f'{table} AS {alias}'}"


def _pg_function(name: str, rows: str, takes: bool) -> str:
    body = " ".join(f"{sql};" for sql in _statements(_waits(rows, _PG_US), takes))
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        "RETURN NULL; END $$"
    )


_PG_PAIRS = (
    "old_answers AS o JOIN new_answers AS n ON n.community_id = o.community_id "
    "AND n.key = o.key WHERE " + " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in _CHANGED)
)
_PG_TRIGGERS = (
    _pg_function("engagement_questions_answer_in", _pg_rows("new_answers", 1, "r"), False),
    "CREATE TRIGGER engagement_questions_answer_in AFTER INSERT ON engagement_questions "
    "REFERENCING NEW TABLE AS new_answers FOR EACH STATEMENT "
    "EXECUTE FUNCTION engagement_questions_answer_in()",
    _pg_function("engagement_questions_answer_out", _pg_rows("old_answers", -1, "r"), True),
    "CREATE TRIGGER engagement_questions_answer_out AFTER DELETE ON engagement_questions "
    "REFERENCING OLD TABLE AS old_answers FOR EACH STATEMENT "
    "EXECUTE FUNCTION engagement_questions_answer_out()",
    _pg_function(
        "engagement_questions_answer_moved",
        f"{_pg_rows('', -1, 'o', _PG_PAIRS)} UNION ALL {_pg_rows('', 1, 'n', _PG_PAIRS)}",
        True,
    ),
    "CREATE TRIGGER engagement_questions_answer_moved AFTER UPDATE ON engagement_questions "
    "REFERENCING OLD TABLE AS old_answers NEW TABLE AS new_answers FOR EACH STATEMENT "
    "EXECUTE FUNCTION engagement_questions_answer_moved()",
)
_NAMES = (
    "engagement_questions_answer_in",
    "engagement_questions_answer_out",
    "engagement_questions_answer_moved",
)


def upgrade() -> None:
    for column in _DAY_VALUES.split(", "):
        op.add_column(
            "engagement_question_days",
            sa.Column(column, sa.Integer(), nullable=False, server_default="0"),
        )
    op.create_table(
        "engagement_answer_buckets",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "day", "bucket"),
    )
    op.create_table(
        "engagement_answer_waits",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("wait_us", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "bucket", "day", "wait_us"),
    )
    op.create_table(
        "engagement_helper_days",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "day", "user_id"),
    )
    op.create_index(
        "ix_engagement_helper_days_top",
        "engagement_helper_days",
        ["community_id", "day", "answers", "user_id"],
    )
    op.create_index(
        "ix_engagement_helper_days_user",
        "engagement_helper_days",
        ["community_id", "user_id", "day", "answers"],
    )
    pg = op.get_bind().dialect.name == "postgresql"
    stored = f"SELECT {_ROW}, 1 AS s FROM engagement_questions"
    for sql in _statements(_waits(stored, _PG_US if pg else _SQLITE_US), False):
        op.execute(sql)
    for sql in _PG_TRIGGERS if pg else _SQLITE_TRIGGERS:
        op.execute(sql)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name in _NAMES:
        if pg:
            op.execute(f"DROP TRIGGER {name} ON engagement_questions")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("engagement_helper_days")
    op.drop_table("engagement_answer_waits")
    op.drop_table("engagement_answer_buckets")
    for column in reversed(_DAY_VALUES.split(", ")):
        op.drop_column("engagement_question_days", column)
