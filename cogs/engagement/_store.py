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
        async with self.db.engine.begin() as conn:
            writer = await _Writer.open(conn, self.db.dialect, self.faults)
            await self._resolve_targets(conn, writer, rows)
            fresh = await writer.insert_new(rows)
            await writer.rollups(fresh)
        self.stored += len(fresh)
        self._remember(fresh)
        return len(fresh)

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
        self, conn: AsyncConnection, writer: _Writer, rows: list[dict[str, Any]]
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
    "days": (_V, _I, _I, *_COUNT_TYPES),
    "edges": (_V, _I, _V, _V, _V, _I),
    "members": (_V, _V, _I, _I, _I),
    "questions": (_V, _V, _V, _V, _V, _V, "timestamptz", _I),
    "cursors": (_V, _V, "bigint", _V),
}
"""Column types of the statements that PostgreSQL runs as one ``INSERT … SELECT FROM unnest``."""


def _unnest(sql: str, types: Sequence[str]) -> str:
    """``INSERT … VALUES (?, …) …`` as ``INSERT … SELECT * FROM unnest($1::t[], …) …``."""
    head, _, rest = sql.partition(" VALUES (")
    _, _, tail = rest.partition(")")
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    return f"{head} SELECT * FROM unnest({arrays}){tail}"


PG_UNNEST = {name: _unnest(SQL[name], types) for name, types in PG_TYPES.items()}
PG_UNNEST["answers"] = (
    "UPDATE engagement_questions AS q SET answered_at = a.at, answered_by = a.user_id "
    "FROM (SELECT DISTINCT ON (c, k) c, k, at, user_id FROM unnest("
    "$1::timestamptz[], $2::varchar[], $3::varchar[], $4::varchar[]) AS u(at, user_id, c, k) "
    "ORDER BY c, k, at) AS a WHERE q.community_id = a.c AND q.key = a.k "
    "AND (q.answered_at IS NULL OR q.answered_at > a.at)"
)
"""One statement per rollup: a row per key, so PostgreSQL never updates a row twice in one."""


class _Writer:
    """One flush's statements on the raw driver connection, inside SQLAlchemy's transaction.

    The rows go to the driver as tuples (no per-row SQLAlchemy work): on SQLite an
    ``executemany`` of ``INSERT OR IGNORE``, and the new rows found by rowid; on PostgreSQL
    ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO NOTHING
    RETURNING key``. The rollups are one ``executemany`` upsert per table.
    """

    def __init__(self, driver: Any, dialect: str, faults: dict[str, int]) -> None:
        self.driver = driver
        self.pg = dialect == "postgresql"
        self.faults = faults

    @classmethod
    async def open(cls, conn: AsyncConnection, dialect: str, faults: dict[str, int]) -> _Writer:
        """The writer on ``conn``; on PostgreSQL this also begins the transaction."""
        if dialect == "postgresql":
            # Through SQLAlchemy, so its adapter opens the transaction the driver calls join.
            await conn.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ("
                + ", ".join(f"{c} {t}" for c, t in zip(RAW_COLUMNS, _PG_TYPES, strict=True))
                + ") ON COMMIT DELETE ROWS"
            )
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if dialect == "postgresql" and not driver.is_in_transaction():
            raise RuntimeError("the engagement flush must run in a transaction")
        return cls(driver, dialect, faults)

    def _fault(self, name: str) -> None:
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            raise ConnectionError(f"the database went away mid-batch (test fault on {name})")

    async def _many(self, name: str, params: list[tuple[Any, ...]]) -> None:
        self._fault(name)
        if not params:
            return
        if self.pg:
            columns = list(zip(*params, strict=True))
            if name == "answers":
                # (at, user, community, key, at): the time twice is for SQLite's placeholders.
                # The update finds its questions by key: on the index even when the table grew
                # faster than autovacuum's statistics (a "tiny" table gets seq-scanned).
                await self.driver.execute("SET LOCAL enable_seqscan = off")
                await self.driver.execute(PG_UNNEST[name], *columns[:4])
                await self.driver.execute("SET LOCAL enable_seqscan = on")
                return
            await self.driver.execute(PG_UNNEST[name], *columns)
        else:
            await self.driver.executemany(SQL[name], params)

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

    async def _days(self, members: dict[tuple[str, int, str], dict[str, float]]) -> None:
        """Per member-day and per community-day: the sums, and the members active for the
        first time that day (the day's ``active`` grows by them), in the batch's transaction.

        PostgreSQL upserts the member-days in one statement that says which rows were inserted
        (``xmax = 0``); SQLite inserts them empty first (``ON CONFLICT DO NOTHING``), finds the
        new ones past the largest rowid, then adds the sums.
        """
        if not members:
            return
        member_rows = [(c, d, u, *(v[n] for n in COUNTS)) for (c, d, u), v in members.items()]
        fresh: Counter[tuple[str, int]] = Counter()
        if self.pg:
            self._fault("member_days")
            found = await self.driver.fetch(
                PG_UNNEST["member_days"] + " RETURNING community_id, day, (xmax = 0)",
                *zip(*member_rows, strict=True),
            )
            fresh.update((f[0], f[1]) for f in found if f[2])
        else:
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
        days: dict[tuple[str, int], dict[str, float]] = defaultdict(_zero)
        for (cid, day, _user), v in members.items():
            total = days[(cid, day)]
            for name in COUNTS:
                total[name] += v[name]
        await self._many(
            "days",
            [(c, d, fresh.get((c, d), 0), *(t[n] for n in COUNTS)) for (c, d), t in days.items()],
        )

    async def rollups(self, rows: list[dict[str, Any]]) -> None:
        """Add what the new raw rows contribute to every rollup, in the same transaction."""
        if not rows:
            return
        members, channels, edges = rollup_deltas(rows)
        await self._days(members)
        await self._many(
            "channel_days",
            [(c, ch, d, u, *(v[n] for n in COUNTS)) for (c, ch, d, u), v in channels.items()],
        )
        await self._many("edges", [(*k, n) for k, n in edges.items()])
        await self._many("members", _member_spans(rows))
        await self._many(
            "questions",
            [
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
        )
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
        await self._many("cursors", _cursors(rows))


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
