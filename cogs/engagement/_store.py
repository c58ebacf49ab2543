"""The writing side of ingest: queued items become raw rows and rollup increments on disk.

It runs in the writer process (see ``_writer``): the items arrive as plain tuples built by
``_ingest.item_of`` in the bot's process, which only parses and queues. A batch is one
transaction: the raw events (``ON CONFLICT DO NOTHING`` on the idempotency key, finding out which
were new) and the rollup increments computed from the new rows only. A crash before the commit
leaves neither, after it both; an event replayed later finds its key taken and adds nothing, so
the rollups never count anything twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from cogs.engagement._keys import sequence
from cogs.engagement._metrics import day_number
from cogs.engagement._models import EVENTS
from cogs.engagement._text import is_question, sentiment

log = logging.getLogger("steward.engagement.writer")
COUNTS = (
    "messages",
    "reactions",
    "replies",
    "questions",
    "p2p_replies",
    "staff_replies",
    "sentiment_sum",
    "sentiment_n",
)
AUTHOR_CACHE = 200_000
"""Authors of recently stored messages kept in memory (reply and reaction targets)."""

Item = tuple[Any, ...]
"""A queued event (see ``_ingest.item_of`` for the fields)."""
Rules = dict[str, tuple[bool, frozenset[str]]]
"""Per community: whether tracking is on, and the staff role ids."""

# Fields of an item, by position.
CID, AT, KIND, KEY, USER, CHANNEL, THREAD, MESSAGE, TARGET, TEXT, FILES, MOD, ROLES = range(13)


def row_of(item: Item, staff_roles: frozenset[str]) -> dict[str, Any]:
    """The raw event row of an item: the text becomes a question flag and a sentiment score."""
    at = datetime.fromtimestamp(item[AT], UTC)
    text = item[TEXT]
    kind = item[KIND]
    row: dict[str, Any] = {
        "community_id": item[CID],
        "key": item[KEY],
        "kind": kind,
        "at": at,
        "day": day_number(item[AT]),
        "user_id": item[USER],
        "channel_id": item[CHANNEL],
        "thread_id": item[THREAD],
        "message_id": item[MESSAGE],
        "target_key": item[TARGET],
        "target_user_id": None,
        "length": 0 if text is None else len(text),
        "attachments": item[FILES],
        "is_question": False if text is None else is_question(text),
        "sentiment": sentiment(text) if kind == "message" else None,
        "from_staff": bool(item[MOD]) or any(r in staff_roles for r in item[ROLES]),
    }
    return row


class Store:
    """Writes batches of items; remembers recent authors so replies and reactions find theirs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stored = 0
        self.failures = 0
        self.faults: dict[str, int] = {}
        """Test hook: statement name -> how many more times it fails (a database going away)."""
        self._authors: dict[tuple[str, str], tuple[str, bool]] = {}
        self._pg: Any = None
        """The asyncpg connection batches are written on (PostgreSQL)."""

    async def write(self, items: list[Item], rules: Rules) -> int:
        """Store a batch, retrying once; returns how many events were new (0 if dropped)."""
        try:
            return await self._write(items, rules)
        except Exception:
            self.failures += 1
            log.exception("writing %d engagement events failed; retrying once", len(items))
            await asyncio.sleep(0.05)
            try:
                return await self._write(items, rules)
            except Exception:
                log.exception("dropped %d engagement events", len(items))
                return 0

    def _rows(self, items: list[Item], rules: Rules) -> list[dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for item in items:
            enabled, staff_roles = rules.get(item[CID], (True, frozenset()))
            if enabled and (item[CID], item[KEY]) not in rows:
                rows[(item[CID], item[KEY])] = row_of(item, staff_roles)
        return list(rows.values())

    async def _write(self, items: list[Item], rules: Rules) -> int:
        rows = self._rows(items, rules)
        if not rows:
            return 0
        if self.db.dialect == "postgresql":
            fresh = await self._write_pg(rows)
        else:
            async with self.db.engine.begin() as conn:
                writer = await _Writer.open(conn, self.faults)
                await self._resolve_targets(conn, writer, rows)
                fresh = await writer.insert_new(rows)
                await writer.rollups(fresh)
        self.stored += len(fresh)
        self._remember(fresh)
        return len(fresh)

    async def _write_pg(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One transaction on the writer's own asyncpg connection.

        Not a pooled SQLAlchemy connection: its checkout ping alone was three round trips a
        batch (BEGIN, a query, ROLLBACK), and the staging table is made once per connection.
        A connection that failed is dropped; the retry opens a new one.
        """
        driver = await self._connection()
        try:
            async with driver.transaction():
                writer = _Writer(driver, "postgresql", self.faults)
                await self._resolve_targets(None, writer, rows)
                fresh = await writer.insert_new(rows)
                await writer.rollups(fresh)
        except BaseException:
            self._pg = None
            driver.terminate()
            raise
        return fresh

    async def _connection(self) -> Any:
        """The PostgreSQL connection, opened if there is none."""
        if self._pg is None or self._pg.is_closed():
            self._pg = await _connect_pg(self.db.url)
        return self._pg

    async def connect(self) -> None:
        """Connect to the database now (the first batch would otherwise)."""
        if self.db.dialect == "postgresql":
            await self._connection()
            return
        async with self.db.engine.connect():
            pass

    async def close(self) -> None:
        """Close the PostgreSQL connection, if one is open."""
        if self._pg is not None:
            driver, self._pg = self._pg, None
            await driver.close(timeout=5)

    def _remember(self, stored: list[dict[str, Any]]) -> None:
        """Keep the authors of messages just committed: most reactions and replies target them."""
        authors = self._authors
        for r in stored:
            if r["kind"] == "message":
                authors[(r["community_id"], r["key"])] = (r["user_id"], bool(r["from_staff"]))
        if len(authors) > AUTHOR_CACHE:
            for key in list(itertools.islice(authors, len(authors) - AUTHOR_CACHE // 2)):
                del authors[key]

    def forget(self, community: str, user: str) -> None:
        """Drop a member who opted out from the author cache (their messages are deleted)."""
        self._authors = {
            k: v for k, v in self._authors.items() if k[0] != community or v[0] != user
        }

    async def _resolve_targets(
        self, conn: AsyncConnection | None, writer: _Writer, rows: list[dict[str, Any]]
    ) -> None:
        """Fill in who wrote the message each reply or reaction targets, and whether staff.

        The batch itself and the cache of recently stored messages answer most; the rest are
        read from the raw events, in the batch's transaction.
        """
        authors: dict[tuple[str, str], tuple[str, bool]] = {
            (r["community_id"], r["key"]): (r["user_id"], r["from_staff"])
            for r in rows
            if r["kind"] == "message"
        }
        cached = self._authors
        wanted: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            target = r["target_key"]
            if target is None:
                continue
            where = (r["community_id"], "m:" + target)
            if where not in authors:
                hit = cached.get(where)
                if hit is not None:
                    authors[where] = hit
                else:
                    wanted[r["community_id"]].add(where[1])
        for cid, keys in wanted.items():
            ordered = sorted(keys)
            if writer.pg:
                # One unique-index probe per key, whatever the statistics say. A table that grew
                # faster than they were gathered (or was never analyzed: autovacuum off) looks
                # small: `key = ANY(…)`, or this join once flattened, became a hash join over
                # the whole community (160 ms a batch at 1M events, growing with the table).
                # `OFFSET 0` keeps the subquery a subquery, run per key on the unique index.
                found = await writer.driver.fetch(
                    "SELECT k.key, e.user_id, e.from_staff FROM unnest($2::varchar[]) AS k(key) "
                    "CROSS JOIN LATERAL (SELECT user_id, from_staff FROM engagement_events "
                    "WHERE community_id = $1 AND key = k.key OFFSET 0) AS e",
                    cid,
                    ordered,
                )
                for key, user, staff in found:
                    authors[(cid, key)] = (user, bool(staff))
                continue
            assert conn is not None
            for i in range(0, len(ordered), 500):
                result = await conn.execute(
                    select(EVENTS.c.key, EVENTS.c.user_id, EVENTS.c.from_staff).where(
                        EVENTS.c.community_id == cid, EVENTS.c.key.in_(ordered[i : i + 500])
                    )
                )
                for key, user, staff in result:
                    authors[(cid, key)] = (user, bool(staff))
        for r in rows:
            target = r["target_key"]
            if target is None:
                continue
            author = authors.get((r["community_id"], "m:" + target))
            if author is not None:
                r["target_user_id"] = author[0]
                r["_target_staff"] = author[1]


# -- rollups -----------------------------------------------------------------------------------


def _zero() -> dict[str, float]:
    return dict.fromkeys(COUNTS, 0)


def rollup_deltas(
    rows: Iterable[dict[str, Any]],
) -> tuple[
    dict[tuple[str, int, str], dict[str, float]],
    dict[tuple[str, str, int, str], dict[str, float]],
    dict[tuple[str, int, str, str, str], int],
]:
    """Per member-day, per channel-member-day and per reply edge: what these new rows add."""
    members: dict[tuple[str, int, str], dict[str, float]] = defaultdict(_zero)
    channels: dict[tuple[str, str, int, str], dict[str, float]] = defaultdict(_zero)
    edges: dict[tuple[str, int, str, str, str], int] = defaultdict(int)
    for r in rows:
        kind = r["kind"]
        if kind == "reaction":
            cid, day, user, channel = r["community_id"], r["day"], r["user_id"], r["channel_id"]
            members[(cid, day, user)]["reactions"] += 1
            channels[(cid, channel, day, user)]["reactions"] += 1
            continue
        if kind != "message":
            continue
        cid, day, user, channel = r["community_id"], r["day"], r["user_id"], r["channel_id"]
        question = 1 if r["is_question"] else 0
        mood = r["sentiment"] or 0.0
        to = r.get("target_user_id")
        replied = to is not None and to != user
        kind_of_reply = None  # a reply to staff is neither peer-to-peer nor staff-to-member
        if to is not None and replied:
            edges[(cid, day, channel, user, to)] += 1
            if not r.get("_target_staff", False):
                kind_of_reply = "staff_replies" if r["from_staff"] else "p2p_replies"
        for bucket in (members[(cid, day, user)], channels[(cid, channel, day, user)]):
            bucket["messages"] += 1
            bucket["questions"] += question
            bucket["sentiment_sum"] += mood
            bucket["sentiment_n"] += 1
            if replied:
                bucket["replies"] += 1
                if kind_of_reply is not None:
                    bucket[kind_of_reply] += 1
    return members, channels, edges


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
_STAGING = "engagement_events_staging"


async def _connect_pg(url: str) -> Any:
    """An asyncpg connection to the database of a SQLAlchemy URL, with the staging table."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    driver = await asyncpg.connect(dsn)
    try:
        await driver.execute(
            f"CREATE TEMP TABLE {_STAGING} ("
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


_SPANS = (("joined_day", False), ("first_day", False), ("last_day", True))


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
    "edges": _upsert_sql(
        "engagement_edges",
        ("community_id", "day", "channel_id", "from_user", "to_user"),
        ("count",),
    ),
    "members": (
        "INSERT INTO engagement_members (community_id, user_id, joined_day, first_day, last_day) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, user_id) DO UPDATE SET "
        + ", ".join(_keep(c, newer) for c, newer in _SPANS)
        # Most members of a batch were seen already that day: leave their rows alone rather
        # than write a new version of each (on PostgreSQL, a third of the server's work).
        + " WHERE "
        + " OR ".join(f"({_moves(c, newer)})" for c, newer in _SPANS)
    ),
    "questions": (
        "INSERT INTO engagement_questions (community_id, key, channel_id, thread_id, message_id, "
        "user_id, asked_at, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    ),
    "answers": (
        "UPDATE engagement_questions SET answered_at = ?, answered_by = ? "
        "WHERE community_id = ? AND key = ? AND (answered_at IS NULL OR answered_at > ?)"
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
    "members": (_V, _V, _I, _I, _I),
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


PG_ROLLUP_PARTS = ("member_days", "channel_days", "edges", "members", "questions", "cursors")
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
    "UPDATE engagement_questions AS q SET answered_at = a.at, answered_by = a.user_id "
    "FROM (SELECT DISTINCT ON (c, k) c, k, at, user_id FROM unnest("
    "$1::timestamptz[], $2::varchar[], $3::varchar[], $4::varchar[]) AS u(at, user_id, c, k) "
    "ORDER BY c, k, at) AS a WHERE q.community_id = a.c AND q.key = a.k "
    "AND (q.answered_at IS NULL OR q.answered_at > a.at)"
)
"""The first answer to each question: one row per key, so no row is updated twice in one
statement."""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (``width`` empty lists when there are none)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


class _Writer:
    """One flush's statements on the raw driver connection, inside the batch's transaction.

    The rows go to the driver as tuples (no per-row SQLAlchemy work): on SQLite an
    ``executemany`` of ``INSERT OR IGNORE``, and the new rows found by rowid; on PostgreSQL
    ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO NOTHING
    RETURNING key``. The rollups are one ``executemany`` upsert per table on SQLite, one
    statement for all of them but the answers on PostgreSQL (``PG_ROLLUPS``).
    """

    def __init__(self, driver: Any, dialect: str, faults: dict[str, int]) -> None:
        self.driver = driver
        self.pg = dialect == "postgresql"
        self.faults = faults

    @classmethod
    async def open(cls, conn: AsyncConnection, faults: dict[str, int]) -> _Writer:
        """The writer on a SQLite connection (in SQLAlchemy's transaction)."""
        raw = await conn.get_raw_connection()
        return cls(raw.driver_connection, "sqlite", faults)

    def _fault(self, name: str) -> None:
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            raise ConnectionError(f"the database went away mid-batch (test fault on {name})")

    async def _many(self, name: str, params: list[tuple[Any, ...]]) -> None:
        self._fault(name)
        if not params:
            return
        if not self.pg:
            await self.driver.executemany(SQL[name], params)
            return
        # Every other rollup is part of PG_ROLLUPS.
        assert name == "answers", name
        # (at, user, community, key, at): the time twice is for SQLite's placeholders. The
        # update finds its questions by key: on the index even when the table grew faster than
        # autovacuum's statistics (a "tiny" table gets seq-scanned).
        columns = _columns(params, 5)
        await self.driver.execute("SET LOCAL enable_seqscan = off")
        await self.driver.execute(PG_ANSWERS, *columns[:4])
        await self.driver.execute("SET LOCAL enable_seqscan = on")

    def _time(self, at: datetime) -> Any:
        # SQLAlchemy's SQLite DateTime text (UTC, without the offset); isoformat writes it
        # 5x faster than strftime.
        return at if self.pg else at.isoformat(" ", "microseconds")[:26]

    async def insert_new(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert the rows whose key is new; return those (the only ones rollups may count)."""
        records = [
            (
                r["community_id"],
                r["key"],
                r["kind"],
                self._time(r["at"]),
                r["day"],
                r["user_id"],
                r["channel_id"],
                r["thread_id"],
                r["message_id"],
                r["target_key"],
                r["target_user_id"],
                r["length"],
                r["attachments"],
                r["is_question"],
                r["sentiment"],
                r["from_staff"],
            )
            for r in rows
        ]
        if self.pg:
            await self.driver.copy_records_to_table(_STAGING, records=records, columns=RAW_COLUMNS)
            cols = ", ".join(RAW_COLUMNS)
            found = await self.driver.fetch(
                f"INSERT INTO engagement_events ({cols}) SELECT {cols} FROM {_STAGING} "
                "ON CONFLICT (community_id, key) DO NOTHING RETURNING community_id, key"
            )
            new = {(f[0], f[1]) for f in found}
        else:
            # One writer per process and SQLite's single write lock: rows inserted now get
            # rowids above the largest one before the insert.
            async with self.driver.execute(
                "SELECT coalesce(max(id), 0) FROM engagement_events"
            ) as cursor:
                (before,) = await cursor.fetchone()
            changes = self.driver.total_changes
            await self.driver.executemany(SQL["raw"], records)
            if self.driver.total_changes - changes == len(records):
                return rows  # all new: the usual case, with nothing to read back
            async with self.driver.execute(
                "SELECT community_id, key FROM engagement_events WHERE id > ?", (before,)
            ) as cursor:
                new = {(f[0], f[1]) for f in await cursor.fetchall()}
        return [r for r in rows if (r["community_id"], r["key"]) in new]

    async def _days(
        self,
        members: dict[tuple[str, int, str], dict[str, float]],
        member_rows: list[tuple[Any, ...]],
    ) -> None:
        """Per member-day and per community-day (SQLite): the sums (``member_rows``, the
        member-days as rows), and the members active for the first time that day (the day's
        ``active`` grows by them).

        The member-days are inserted empty first (``ON CONFLICT DO NOTHING``), the new ones
        found past the largest rowid, then the sums added.
        """
        if not members:
            return
        fresh: Counter[tuple[str, int]] = Counter()
        async with self.driver.execute(
            "SELECT coalesce(max(rowid), 0) FROM engagement_member_days"
        ) as cursor:
            (before,) = await cursor.fetchone()
        await self.driver.executemany(SQL["member_days_seen"], list(members))
        async with self.driver.execute(
            "SELECT community_id, day, count(*) FROM engagement_member_days "
            "WHERE rowid > ? GROUP BY community_id, day",
            (before,),
        ) as cursor:
            for cid, day, n in await cursor.fetchall():
                fresh[(cid, day)] = n
        await self._many("member_days", member_rows)
        await self._many(
            "days",
            [(c, d, fresh.get((c, d), 0), *sums) for c, d, *sums in _day_rows(members)],
        )

    async def rollups(self, rows: list[dict[str, Any]]) -> None:
        """Add what the new raw rows contribute to every rollup, in the same transaction."""
        if not rows:
            return
        members, channels, edges = rollup_deltas(rows)
        parts: dict[str, list[tuple[Any, ...]]] = {
            "member_days": _member_day_rows(members),
            "channel_days": [
                (c, ch, d, u, *(v[n] for n in COUNTS)) for (c, ch, d, u), v in channels.items()
            ],
            "edges": [(*k, n) for k, n in edges.items()],
            "members": _member_spans(rows),
            "questions": [
                (
                    r["community_id"],
                    r["key"],
                    r["channel_id"],
                    r["thread_id"],
                    r["message_id"],
                    r["user_id"],
                    self._time(r["at"]),
                    r["day"],
                )
                for r in rows
                if r["kind"] == "message" and r["is_question"]
            ],
            "cursors": _cursors(rows),
        }
        if self.pg:
            for name in ("days", *PG_ROLLUP_PARTS):
                self._fault(name)
            arrays: list[list[Any]] = []
            for name in PG_ROLLUP_PARTS:
                arrays += _columns(parts[name], len(PG_TYPES[name]))
            arrays += _columns(_day_rows(members), 2 + len(COUNTS))
            await self.driver.execute(PG_ROLLUPS, *arrays)
        else:
            await self._days(members, parts["member_days"])
            for name in ("channel_days", "edges", "members", "questions"):
                await self._many(name, parts[name])
        await self._many(
            "answers",
            [
                (
                    self._time(r["at"]),
                    r["user_id"],
                    r["community_id"],
                    "m:" + r["target_key"],
                    self._time(r["at"]),
                )
                for r in rows
                if r["kind"] == "message"
                and r.get("target_user_id") is not None
                and r["target_user_id"] != r["user_id"]
            ],
        )
        if not self.pg:
            await self._many("cursors", parts["cursors"])


def _member_day_rows(
    members: dict[tuple[str, int, str], dict[str, float]],
) -> list[tuple[Any, ...]]:
    """The member-day increments as rows: (community, day, member, *COUNTS)."""
    return [(c, d, u, *(v[n] for n in COUNTS)) for (c, d, u), v in members.items()]


def _day_rows(members: dict[tuple[str, int, str], dict[str, float]]) -> list[tuple[Any, ...]]:
    """The community-day increments (the member-days added up): (community, day, *COUNTS)."""
    days: dict[tuple[str, int], dict[str, float]] = defaultdict(_zero)
    for (cid, day, _user), v in members.items():
        total = days[(cid, day)]
        for name in COUNTS:
            total[name] += v[name]
    return [(c, d, *(t[n] for n in COUNTS)) for (c, d), t in days.items()]


def _member_spans(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per member: the earliest join day, the first and the last active day in these rows."""
    spans: dict[tuple[str, str], list[int | None]] = {}
    for r in rows:
        kind = r["kind"]
        if kind not in ("message", "reaction", "join"):
            continue
        span = spans.setdefault((r["community_id"], r["user_id"]), [None, None, None])
        day = r["day"]
        slot = (0,) if kind == "join" else (1, 2)
        for i in slot:
            current = span[i]
            if current is None or (day > current if i == 2 else day < current):
                span[i] = day
    return [(c, u, j, f, la) for (c, u), (j, f, la) in spans.items()]


def _cursors(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per channel: the latest message of these rows, where catch-up resumes.

    Replies in Slack threads don't move it: conversations.history lists top-level messages only,
    so a cursor on a reply would read an empty page (Discord threads are channels of their own).
    """
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for r in rows:
        if r["kind"] != "message" or r["thread_id"] not in (None, r["channel_id"]):
            continue
        seq = sequence(r["message_id"])
        where = (r["community_id"], r["channel_id"])
        if where not in latest or seq > latest[where][0]:
            latest[where] = (seq, r["message_id"])
    return [(c, ch, s, m) for (c, ch), (s, m) in latest.items()]
