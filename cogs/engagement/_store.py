"""The writing side of ingest: queued items become raw rows and rollup increments on disk.

It runs in the writer process (see ``_writer``): the items arrive as plain tuples built by
``_rules.item_of`` in the bot's process, which only parses and queues. A batch is one
transaction: the raw events (``ON CONFLICT DO NOTHING`` on the idempotency key, finding out which
were new) and the rollup increments computed from the new rows only (``_rules``). A crash before
the commit leaves neither, after it both; an event replayed later finds its key taken and adds
nothing, so the rollups never count anything twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.runtime import Storage
from bot.core.transient import describe, is_transient
from cogs.engagement._gaps import columns as _columns
from cogs.engagement._gaps import gap_rows
from cogs.engagement._models import BLOCK_DAYS, EVENTS
from cogs.engagement._rules import (
    CID,
    COUNTS,
    KEY,
    KIND,
    UNDOES,
    Item,
    Rules,
    answers_of,
    block_rows,
    cursor_rows,
    day_rows,
    deleted_questions,
    joined_members,
    member_day_rows,
    member_spans,
    rollup_deltas,
    row_of,
    weeks_blocks,
    weeks_of_blocks,
    withdrawn,
)
from cogs.engagement._sql import (
    PG_ANSWERS,
    PG_ROLLUP_PARTS,
    PG_ROLLUPS,
    PG_TYPES,
    PG_UNASKED,
    PG_WITHDRAW,
    RAW_COLUMNS,
    SQL,
    STAGING,
    connect_pg,
)

log = logging.getLogger("steward.engagement.writer")
_TARGETING = ("message", "reaction", "unreaction")
"""The kinds whose target is a message whose author counts (not edits, not deletions)."""
RETRY_FIRST = 0.05
RETRY_CAP = 2.0
"""Seconds between a batch's tries while the database is away: doubling from 0.05 up to 2."""
REPORT_EVERY = 60.0
"""Seconds between the log's reminders that a batch still waits for the database."""
AUTHOR_CACHE = 200_000
"""Authors of recently stored messages kept in memory (reply and reaction targets)."""


class Store:
    """Writes batches of items; remembers recent authors so replies and reactions find theirs."""

    def __init__(self, db: Storage) -> None:
        self.db = db
        self.stored = 0
        self.failures = 0
        self.faults: dict[str, int] = {}
        """Test hook: statement name -> how many more times it fails (a database going away)."""
        self._authors: dict[tuple[str, str], tuple[str, bool]] = {}
        self._pg: Any = None
        """The asyncpg connection batches are written on (PostgreSQL)."""

    async def write(self, items: list[Item], rules: Rules) -> int:
        """Store a batch; returns how many events were new (0 if dropped).

        Passing trouble (the database locked, refusing or resetting connections) is retried
        with backoff until the database takes the batch: the bot keeps it until acknowledged
        and an outage must not lose it. Anything else is retried once, then dropped.
        """
        waited = report_at = 0.0
        delay = RETRY_FIRST
        tries = bugs = 0
        while True:
            tries += 1
            try:
                stored = await self._write(items, rules)
            except Exception as exc:
                self.failures += 1
                if not is_transient(exc):
                    bugs += 1
                    if bugs > 1:
                        log.exception("dropped %d engagement events", len(items))
                        return 0
                    log.exception("writing %d engagement events failed; retrying once", len(items))
                    await asyncio.sleep(RETRY_FIRST)
                    continue
                if waited >= report_at:
                    report_at = waited + REPORT_EVERY
                    log.warning(
                        "the database can't take %d engagement events (%s); waiting for it",
                        len(items),
                        describe(exc),  # one line: SQLAlchemy's text spans several
                    )
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, RETRY_CAP)
                continue
            if tries > 1:
                log.warning("stored %d engagement events after %d tries", len(items), tries)
            return stored

    def _rows(
        self, items: list[Item], rules: Rules
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The batch's rows (each key once), and its takings back that stand: the reactions
        whose last event in the batch takes them back."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        last: dict[tuple[str, str], dict[str, Any] | None] = {}  # None: added again after
        for item in items:
            enabled, staff_roles = rules.get(item[CID], (True, frozenset()))
            if not enabled:
                continue
            where = (item[CID], item[KEY])
            row = rows.get(where)
            if row is None:
                row = rows[where] = row_of(item, staff_roles)
            if item[KIND] == "reaction":
                last[where] = None
            elif item[KIND] == "unreaction":
                last[(item[CID], item[UNDOES])] = row
        return list(rows.values()), [r for r in last.values() if r is not None]

    async def _write(self, items: list[Item], rules: Rules) -> int:
        rows, undo = self._rows(items, rules)
        if not rows:
            return 0
        if self.db.dialect == "postgresql":
            fresh = await self._write_pg(rows, undo)
        else:
            async with self.db.engine.begin() as conn:
                writer = await _Writer.open(conn, self.faults)
                await self._resolve_targets(conn, writer, rows)
                fresh = await writer.insert_new(rows)
                await writer.rollups(fresh, undo)
        self.stored += len(fresh)
        self._remember(fresh)
        return len(fresh)

    async def _write_pg(
        self, rows: list[dict[str, Any]], undo: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
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
                await writer.rollups(fresh, undo)
        except BaseException:
            self._pg = None
            driver.terminate()
            raise
        return fresh

    async def _connection(self) -> Any:
        """The PostgreSQL connection, opened if there is none."""
        if self._pg is None or self._pg.is_closed():
            self._pg = await connect_pg(self.db.url)
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
            if target is None or r["kind"] not in _TARGETING:
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
            if target is None or r["kind"] not in _TARGETING:
                continue
            author = authors.get((r["community_id"], "m:" + target))
            if author is not None:
                r["target_user_id"] = author[0]
                r["_target_staff"] = author[1]


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
        assert name in ("answers", "unasked"), name
        if name == "unasked":
            await self.driver.execute(PG_UNASKED, *_columns(params, 2))
            return
        # The update finds its questions by key and thread: on the indexes even when the table
        # grew faster than autovacuum's statistics (a "tiny" table gets seq-scanned).
        await self.driver.execute("SET LOCAL enable_seqscan = off")
        await self.driver.execute(PG_ANSWERS, *_columns(params, 7))
        await self.driver.execute("SET LOCAL enable_seqscan = on")

    async def _withdraw(self, undo: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Delete the stored reactions these takings back take back; rows that take their
        counts back (``_rules.withdrawn``).

        A taking back stored before (a resumed Discord session replays it) takes its reaction
        back again if it is there: the replay brought the reaction back (its adding came
        again, and found its row gone), and replays come in order, so an adding after the
        taking back comes again after it."""
        keys = [(r["community_id"], r["_undoes"]) for r in undo]
        if not keys:
            return []
        if self.pg:
            found = await self.driver.fetch(PG_WITHDRAW, *_columns(keys, 2))
        else:
            found = []
            for key in keys:
                async with self.driver.execute(SQL["withdraw"], key) as cursor:
                    found.extend(await cursor.fetchall())
        return [withdrawn(c, int(d), u, ch) for c, d, u, ch in found]

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
            await self.driver.copy_records_to_table(STAGING, records=records, columns=RAW_COLUMNS)
            cols = ", ".join(RAW_COLUMNS)
            found = await self.driver.fetch(
                f"INSERT INTO engagement_events ({cols}) SELECT {cols} FROM {STAGING} "
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
            [(c, d, fresh.get((c, d), 0), *sums) for c, d, *sums in day_rows(members)],
        )

    async def _rejoined(self, members: list[tuple[str, str]]) -> None:
        """Count again, from the member blocks, the active weeks of members who joined in
        this batch (their join day may have moved: the weeks count from it)."""
        if not members:
            return
        joined: list[tuple[str, str, int]] = []
        blocks: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        if self.pg:
            found = await self.driver.fetch(
                "SELECT m.community_id, m.user_id, m.joined_day FROM unnest($1::varchar[], "
                "$2::varchar[]) AS u(c, m) CROSS JOIN LATERAL (SELECT community_id, user_id, "
                "joined_day FROM engagement_members WHERE community_id = u.c AND user_id = u.m "
                "OFFSET 0) AS m",
                *_columns(members, 2),
            )
            joined = [(c, u, int(j)) for c, u, j in found if j is not None]
            wanted = [(c, k, u) for c, u, j in joined for k in weeks_blocks(j, BLOCK_DAYS)]
            # One primary-key probe per block (``OFFSET 0``: never a scan, whatever the
            # statistics say).
            for c, u, k, bits in await self.driver.fetch(
                "SELECT u.c, u.m, u.k, b.active FROM unnest($1::varchar[], $2::int[], "
                "$3::varchar[]) AS u(c, k, m) CROSS JOIN LATERAL (SELECT active "
                "FROM engagement_member_blocks WHERE community_id = u.c AND block = u.k "
                "AND user_id = u.m OFFSET 0) AS b",
                *_columns(wanted, 3),
            ):
                blocks[(c, u)].append((int(k), int(bits)))
        else:
            for c, u in members:
                async with self.driver.execute(SQL["joined"], (c, u)) as cursor:
                    row = await cursor.fetchone()
                if row is None or row[0] is None:
                    continue
                j = int(row[0])
                joined.append((c, u, j))
                keys = list(weeks_blocks(j, BLOCK_DAYS))
                async with self.driver.execute(
                    "SELECT block, active FROM engagement_member_blocks WHERE community_id = ? "
                    f"AND user_id = ? AND block IN ({', '.join('?' * len(keys))})",
                    (c, u, *keys),
                ) as cursor:
                    blocks[(c, u)] = [(int(k), int(b)) for k, b in await cursor.fetchall()]
        weeks = [(weeks_of_blocks(j, blocks[(c, u)], BLOCK_DAYS), c, u) for c, u, j in joined]
        if self.pg:
            await self.driver.execute("SET LOCAL enable_seqscan = off")  # as in ``_many``
            await self.driver.execute(
                "UPDATE engagement_members AS m SET weeks = u.w FROM unnest($1::bigint[], "
                "$2::varchar[], $3::varchar[]) AS u(w, c, k) "
                "WHERE m.community_id = u.c AND m.user_id = u.k",
                *_columns(weeks, 3),
            )
            await self.driver.execute("SET LOCAL enable_seqscan = on")
        else:
            await self.driver.executemany(SQL["rejoined"], weeks)

    async def rollups(
        self, rows: list[dict[str, Any]], undo: list[dict[str, Any]] | None = None
    ) -> None:
        """Add what the new raw rows contribute to every rollup, and take back what the
        reactions taken back (``undo``, new rows or not) counted, in the same transaction."""
        rows = [*rows, *await self._withdraw(undo or [])]
        if not rows:
            return
        members, channels, edges = rollup_deltas(rows)
        parts: dict[str, list[tuple[Any, ...]]] = {
            "member_days": member_day_rows(members),
            "channel_days": [
                (c, ch, d, u, *(v[n] for n in COUNTS)) for (c, ch, d, u), v in channels.items()
            ],
            "edges": [(*k, n) for k, n in edges.items()],
            "gaps": await gap_rows(self.driver, self.pg, members),  # before members, blocks
            "members": member_spans(rows),
            "blocks": block_rows(members, BLOCK_DAYS),
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
            "cursors": cursor_rows(rows),
        }
        if self.pg:
            for name in ("days", *PG_ROLLUP_PARTS):
                self._fault(name)
            arrays: list[list[Any]] = []
            for name in PG_ROLLUP_PARTS:
                arrays += _columns(parts[name], len(PG_TYPES[name]))
            arrays += _columns(day_rows(members), 2 + len(COUNTS))
            await self.driver.execute(PG_ROLLUPS, *arrays)
        else:
            await self._days(members, parts["member_days"])
            for name in ("channel_days", "edges", "gaps", "members", "blocks", "questions"):
                await self._many(name, parts[name])
        await self._rejoined(joined_members(rows))
        await self._many(
            "answers",
            [(self._time(at), *rest) for at, *rest in answers_of(rows)],
        )
        await self._many("unasked", deleted_questions(rows))
        if not self.pg:
            await self._many("cursors", parts["cursors"])
