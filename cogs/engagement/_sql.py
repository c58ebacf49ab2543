"""The writer's SQL: raw inserts and rollup upserts, for SQLite and PostgreSQL.

The statements are written once with ``?`` placeholders (SQLite's ``executemany``); PostgreSQL
runs the rollups as one statement of data-modifying ``WITH`` parts over ``unnest`` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cogs.engagement._rules import COUNTS

RAW_COLUMNS = (
    "community_id",
    "key",
    "kind",
    "at",
    "day",
    "user_id",
    "channel_id",
    "thread_id",
    "message_id",
    "target_key",
    "target_user_id",
    "length",
    "attachments",
    "is_question",
    "sentiment",
    "from_staff",
)
_PG_TYPES = (
    "varchar",
    "varchar",
    "varchar",
    "timestamptz",
    "integer",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "integer",
    "integer",
    "boolean",
    "double precision",
    "boolean",
)
STAGING = "engagement_events_staging"


async def connect_pg(url: str) -> Any:
    """An asyncpg connection to the database of a SQLAlchemy URL, with the staging table."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    from bot.db.timeouts import keep_alive, pg_timeouts

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    # Bounded as Steward's other connections are: a server gone silent fails the batch (it is
    # written again later) instead of holding the writer for good.
    driver = await asyncpg.connect(dsn, **pg_timeouts())
    keep_alive(getattr(driver, "_transport", None))
    try:
        await driver.execute(
            f"CREATE TEMP TABLE {STAGING} ("
            + ", ".join(f"{c} {t}" for c, t in zip(RAW_COLUMNS, _PG_TYPES, strict=True))
            + ") ON COMMIT DELETE ROWS"
        )
    except BaseException:
        driver.terminate()
        raise
    return driver


def _upsert_sql(table: str, keys: Sequence[str], added: Sequence[str]) -> str:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET c = table.c + excluded.c`` (both dialects)."""
    columns = [*keys, *added]
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )


def _moves(column: str, newer_wins: bool) -> str:
    """Whether the incoming value of an ``engagement_members`` column replaces the stored one:
    it is known and the stored one is not, or it is later (``newer_wins``) or earlier."""
    better = ">" if newer_wins else "<"
    t = f"engagement_members.{column}"
    return f"excluded.{column} IS NOT NULL AND ({t} IS NULL OR excluded.{column} {better} {t})"


def _keep(column: str, newer_wins: bool) -> str:
    t = f"engagement_members.{column}"
    return f"{column} = CASE WHEN {_moves(column, newer_wins)} THEN excluded.{column} ELSE {t} END"


_SPANS = (
    ("joined_day", False),
    ("first_day", False),
    ("last_day", True),
    ("posted_day", False),
    ("left_day", True),
    ("last_posted_day", True),
)


def _week(day: str) -> str:
    return f"(({day} + 3) / 7)"  # integer division on both: week_of


_M = "engagement_members"
_BASE = (
    "CASE WHEN excluded.joined_day IS NULL OR excluded.first_day < excluded.joined_day "
    "THEN excluded.first_day ELSE excluded.joined_day END"
)
"""The day the incoming weeks count from (``_rules.member_spans``: the earliest of the batch's
join and active days)."""
_SHIFT = f"({_week(_BASE)} - {_week(f'{_M}.joined_day')})"
_WEEKS = (
    f"CASE WHEN {_M}.joined_day IS NULL THEN excluded.weeks "
    f"ELSE coalesce({_M}.weeks, 0) | CASE "
    f"WHEN {_SHIFT} BETWEEN 0 AND 62 THEN (excluded.weeks << {_SHIFT}) & {(1 << 63) - 1} "
    f"WHEN {_SHIFT} BETWEEN -62 AND -1 THEN excluded.weeks >> (0 - {_SHIFT}) ELSE 0 END END"
)
"""A member's active weeks after this batch: the incoming bits moved onto the stored join
week (a join these rows move is counted again from the member blocks afterwards)."""


SQL = {
    "member_days": _upsert_sql(
        "engagement_member_days", ("community_id", "day", "user_id"), COUNTS
    ),
    "channel_days": _upsert_sql(
        "engagement_channel_days", ("community_id", "channel_id", "day", "user_id"), COUNTS
    ),
    "days": _upsert_sql(
        "engagement_days",
        ("community_id", "day"),
        ("active", *COUNTS),
    ),
    "member_days_seen": (
        "INSERT INTO engagement_member_days (community_id, day, user_id, "
        + ", ".join(COUNTS)
        + ") VALUES (?, ?, ?"
        + ", 0" * len(COUNTS)
        + ") ON CONFLICT DO NOTHING"
    ),
    "gaps": _upsert_sql(
        "engagement_member_gaps", ("community_id", "day", "since"), ("active", "posted")
    ),
    "edges": _upsert_sql(
        "engagement_edges",
        ("community_id", "day", "channel_id", "from_user", "to_user"),
        ("count",),
    ),
    "members": (
        "INSERT INTO engagement_members (community_id, user_id, joined_day, first_day, last_day, "
        "posted_day, left_day, last_posted_day, weeks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (community_id, user_id) DO UPDATE SET "
        + ", ".join(_keep(c, newer) for c, newer in _SPANS)
        + f", weeks = {_WEEKS}"
        # Most members of a batch were seen already that day: leave their rows alone rather
        # than write a new version of each (on PostgreSQL, a third of the server's work).
        + " WHERE "
        + " OR ".join(f"({_moves(c, newer)})" for c, newer in _SPANS)
        + f" OR ({_M}.joined_day IS NOT NULL AND coalesce({_M}.weeks, -1) <> {_WEEKS})"
    ),
    "joined": ("SELECT joined_day FROM engagement_members WHERE community_id = ? AND user_id = ?"),
    "rejoined": "UPDATE engagement_members SET weeks = ? WHERE community_id = ? AND user_id = ?",
    "blocks": (
        "INSERT INTO engagement_member_blocks (community_id, block, user_id, active, posted) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, block, user_id) DO UPDATE SET "
        "active = engagement_member_blocks.active | excluded.active, "
        "posted = engagement_member_blocks.posted | excluded.posted "
        # Most members of a batch were active that day already: no new row version for them.
        "WHERE (excluded.active & ~engagement_member_blocks.active) <> 0 "
        "OR (excluded.posted & ~engagement_member_blocks.posted) <> 0"
    ),
    "questions": (
        "INSERT INTO engagement_questions (community_id, key, channel_id, thread_id, message_id, "
        "user_id, asked_at, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    ),
    "answers": (
        "UPDATE engagement_questions SET answered_at = ?1, answered_by = ?2, "
        "answered_by_staff = ?3 WHERE community_id = ?4 AND (key = ?5 OR (thread_id = ?6 "
        "AND channel_id = ?7)) AND user_id <> ?2 AND asked_at <= ?1 "
        "AND (answered_at IS NULL OR answered_at > ?1)"
    ),
    "unasked": "DELETE FROM engagement_questions WHERE community_id = ? AND key = ?",
    "withdraw": (
        "DELETE FROM engagement_events WHERE community_id = ? AND key = ? "
        "RETURNING community_id, day, user_id, channel_id"
    ),
    "cursors": (
        "INSERT INTO engagement_channels (community_id, channel_id, last_seq, last_message_id) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (community_id, channel_id) DO UPDATE SET "
        "last_seq = excluded.last_seq, last_message_id = excluded.last_message_id "
        "WHERE excluded.last_seq > engagement_channels.last_seq"
    ),
    "raw": (
        f"INSERT INTO engagement_events ({', '.join(RAW_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(RAW_COLUMNS))}) ON CONFLICT (community_id, key) DO NOTHING"
    ),
}


_COUNT_TYPES = ("int", "int", "int", "int", "int", "int", "float8", "int")
_V, _I = "varchar", "int"
PG_TYPES: dict[str, tuple[str, ...]] = {
    "member_days": (_V, _I, _V, *_COUNT_TYPES),
    "channel_days": (_V, _V, _I, _V, *_COUNT_TYPES),
    "edges": (_V, _I, _V, _V, _V, _I),
    "gaps": (_V, _I, _I, _I, _I),
    "members": (_V, _V, _I, _I, _I, _I, _I, _I, "bigint"),
    "blocks": (_V, _I, _V, "bigint", "bigint"),
    "questions": (_V, _V, _V, _V, _V, _V, "timestamptz", _I),
    "cursors": (_V, _V, "bigint", _V),
}
"""Column types of the rollups' arrays on PostgreSQL (``INSERT … SELECT FROM unnest``)."""


def _unnest(sql: str, types: Sequence[str], first: int = 1) -> str:
    """``INSERT … VALUES (?, …) …`` as ``INSERT … SELECT * FROM unnest($1::t[], …) …``, the
    arrays numbered from ``first``."""
    head, _, rest = sql.partition(" VALUES (")
    _, _, tail = rest.partition(")")
    arrays = ", ".join(f"${first + i}::{t}[]" for i, t in enumerate(types))
    return f"{head} SELECT * FROM unnest({arrays}){tail}"


PG_ROLLUP_PARTS = (
    "member_days",
    "channel_days",
    "edges",
    "gaps",
    "members",
    "blocks",
    "questions",
    "cursors",
)
"""The rollups PostgreSQL writes in one statement, a data-modifying ``WITH`` each, in the order
of their arrays; the community-days come last, ``active`` counted from the member-days that
statement inserted (``xmax = 0``)."""


def _pg_rollups() -> str:
    parts: list[str] = []
    first = 1
    for name in PG_ROLLUP_PARTS:
        sql = _unnest(SQL[name], PG_TYPES[name], first)
        if name == "member_days":
            sql += " RETURNING community_id, day, (xmax = 0) AS fresh"
        parts.append(f"{name} AS ({sql})")
        first += len(PG_TYPES[name])
    counts = ", ".join(COUNTS)
    arrays = ", ".join(f"${first + i}::{t}[]" for i, t in enumerate((_V, _I, *_COUNT_TYPES)))
    sets = ", ".join(f"{c} = engagement_days.{c} + excluded.{c}" for c in ("active", *COUNTS))
    return (
        "WITH "
        + ", ".join(parts)
        + f" INSERT INTO engagement_days (community_id, day, active, {counts}) "
        f"SELECT d.community_id, d.day, coalesce(f.n, 0), {counts} "
        f"FROM unnest({arrays}) AS d(community_id, day, {counts}) "
        "LEFT JOIN (SELECT community_id, day, count(*) FILTER (WHERE fresh) AS n "
        "FROM member_days GROUP BY community_id, day) AS f "
        "ON f.community_id = d.community_id AND f.day = d.day "
        f"ON CONFLICT (community_id, day) DO UPDATE SET {sets}"
    )


PG_ROLLUPS = _pg_rollups()
"""Every rollup but the answers (which must see the questions this batch added) in one round
trip: a batch of a few events paid a dozen of them."""


PG_ANSWERS = (
    "UPDATE engagement_questions AS q SET answered_at = a.at, answered_by = a.user_id, "
    "answered_by_staff = a.staff FROM (SELECT DISTINCT ON (o.community_id, o.key) "
    "o.community_id AS c, o.key AS k, u.at, u.user_id, u.staff FROM unnest($1::timestamptz[], "
    "$2::varchar[], $3::boolean[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[]) "
    "AS u(at, user_id, staff, c, k, thread, channel) JOIN engagement_questions AS o "
    "ON o.community_id = u.c AND (o.key = u.k OR (o.thread_id = u.thread "
    "AND o.channel_id = u.channel)) AND o.user_id <> u.user_id AND o.asked_at <= u.at "
    "ORDER BY o.community_id, o.key, u.at) AS a WHERE q.community_id = a.c AND q.key = a.k "
    "AND (q.answered_at IS NULL OR q.answered_at > a.at)"
)
"""The first answer to each question (``_rules.answers_of``): one row per question, so no row
is updated twice in one statement."""
PG_UNASKED = (
    "DELETE FROM engagement_questions AS q USING unnest($1::varchar[], $2::varchar[]) AS u(c, k) "
    "WHERE q.community_id = u.c AND q.key = u.k"
)
PG_WITHDRAW = (
    "DELETE FROM engagement_events AS e USING unnest($1::varchar[], $2::varchar[]) AS u(c, k) "
    "WHERE e.community_id = u.c AND e.key = u.k "
    "RETURNING e.community_id, e.day, e.user_id, e.channel_id"
)
"""Reactions taken back: their rows go (a new reaction counts again), returning what they
counted in."""
