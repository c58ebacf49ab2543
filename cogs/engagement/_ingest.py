"""Batched ingest: listeners append to a buffer; one writer flushes it by size or within 100 ms.

A flush is one transaction: the raw events (``ON CONFLICT DO NOTHING`` on the idempotency key,
finding out which were new) and the rollup increments computed from the new rows only. A crash
before the commit leaves neither, after it both; an event replayed later finds its key taken and
adds nothing, so the rollups never count anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import (
    Clock,
    CommunityRef,
    Event,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.communities import ensure_community
from bot.core.dispatch import Activity
from bot.core.members import Level
from bot.core.settings import COMMUNITY_FEATURE, CommunitySettings, SettingsStore
from bot.db.engine import Database
from cogs.engagement._keys import message_key, sequence, target_key
from cogs.engagement._metrics import day_of
from cogs.engagement._models import EVENTS
from cogs.engagement._text import is_question, sentiment
from cogs.engagement.settings import EngagementSettings

log = logging.getLogger("steward.engagement")
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
TRACKED = (
    MessagePosted,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    MemberJoined,
    MemberLeft,
)


@dataclass(slots=True)
class Pending:
    """An event waiting in the buffer, with the time it counts at and when it arrived."""

    event: Event
    at: datetime
    received: float


def upsert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_*``."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Ingest:
    """The buffer and its writer task, shared by every community of the process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        activity: Activity,
        *,
        max_batch: int = 5000,
        flush_after: float = 0.1,
    ) -> None:
        self.db = db
        self.clock = clock
        self.activity = activity
        self.max_batch = max_batch
        self.flush_after = flush_after
        self.opted_out: dict[str, set[str]] = defaultdict(set)
        self.probe: Callable[[Sequence[float]], None] | None = None
        self.stored = 0
        self.failures = 0
        self._buffer: list[Pending] = []
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._known: set[str] = set()
        self._authors: dict[tuple[str, str], tuple[str, bool]] = {}

    # -- the buffer ----------------------------------------------------------------------------

    def offer(self, event: Event, at: datetime | None = None) -> None:
        """Queue an event; ``at`` is when it counts (default: now, on Steward's clock)."""
        self._buffer.append(Pending(event, at or self.clock.now(), time.perf_counter()))
        if len(self._buffer) >= self.max_batch:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="engagement-writer")

    @property
    def pending(self) -> int:
        """Events not yet written."""
        return len(self._buffer)

    async def _run(self) -> None:
        async with self.activity.track():
            while self._buffer:
                if len(self._buffer) < self.max_batch:
                    if self.flush_after > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._full.wait(), self.flush_after)
                    else:
                        await asyncio.sleep(0)
                self._full.clear()
                await self.flush()

    async def flush(self) -> None:
        """Write everything buffered now, one batch (one transaction) at a time."""
        async with self._lock:
            while self._buffer:
                batch = self._buffer[: self.max_batch]
                del self._buffer[: self.max_batch]
                try:
                    await self._write(batch)
                except Exception:
                    self.failures += 1
                    log.exception("writing %d engagement events failed; retrying once", len(batch))
                    await asyncio.sleep(0.05)
                    try:
                        await self._write(batch)
                    except Exception:
                        log.exception("dropped %d engagement events", len(batch))

    async def close(self) -> None:
        """Flush what is left and stop the writer (on shutdown)."""
        await self.flush()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # -- one batch -----------------------------------------------------------------------------

    async def _staff_rules(
        self, communities: Iterable[str]
    ) -> dict[str, tuple[bool, frozenset[str]]]:
        """Per community: whether tracking is on, and the staff role ids.

        Read from the process's settings cache when both entries are fresh (a settings write in
        this process drops them at once), so a flush opens no session for them.
        """
        rules: dict[str, tuple[bool, frozenset[str]]] = {}
        cache = self.db.settings_cache
        missing: list[str] = []
        for key in communities:
            mine = cache.get((key, "engagement"), EngagementSettings) if cache else None
            shared = cache.get((key, COMMUNITY_FEATURE), CommunitySettings) if cache else None
            if key in self._known and mine is not None and shared is not None:
                rules[key] = _rule(mine, shared)
            else:
                missing.append(key)
        if not missing:
            return rules
        async with self.db.uow() as uow:
            store = SettingsStore.of(uow)
            for key in missing:
                ref = CommunityRef.from_key(key)
                if key not in self._known:
                    # Jobs (catch-up, digest) run for the communities Steward knows about.
                    await ensure_community(uow.session, ref, self.clock.now())
                    await uow.commit()
                    self._known.add(key)
                mine = await store.get(ref, EngagementSettings, "engagement")
                shared = await store.get(ref, CommunitySettings, COMMUNITY_FEATURE)
                rules[key] = _rule(mine, shared)
        return rules

    def _rows(
        self, batch: list[Pending], rules: dict[str, tuple[bool, frozenset[str]]]
    ) -> list[dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for item in batch:
            event = item.event
            cid = event.community.key
            enabled, staff_roles = rules[cid]
            if not enabled:
                continue
            row = _row(event, item.at, staff_roles)
            if row is None or row["user_id"] in self.opted_out.get(cid, ()):
                continue
            rows.setdefault((cid, row["key"]), row)
        return list(rows.values())

    async def _write(self, batch: list[Pending]) -> None:
        rules = await self._staff_rules({p.event.community.key for p in batch})
        rows = self._rows(batch, rules)
        fresh: list[dict[str, Any]] = []
        if rows:
            async with self.db.engine.begin() as conn:
                writer = await _Writer.open(conn, self.db.dialect)
                await self._resolve_targets(conn, rows)
                fresh = await writer.insert_new(rows)
                await writer.rollups(fresh)
            self.stored += len(fresh)
            self._remember(fresh)
        if self.probe is not None:
            self.probe([p.received for p in batch])

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

    async def _resolve_targets(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """Fill in who wrote the message each reply or reaction targets, and whether staff.

        The batch itself and the cache of recently stored messages answer most; the rest are
        read from the raw events, in the flush's transaction.
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
            for i in range(0, len(ordered), 500):
                found = await conn.execute(
                    select(EVENTS.c.key, EVENTS.c.user_id, EVENTS.c.from_staff).where(
                        EVENTS.c.community_id == cid, EVENTS.c.key.in_(ordered[i : i + 500])
                    )
                )
                for key, user, staff in found:
                    authors[(cid, key)] = (user, bool(staff))
        for r in rows:
            target = r["target_key"]
            if target is None:
                continue
            author = authors.get((r["community_id"], "m:" + target))
            if author is not None:
                r["target_user_id"] = author[0]
                r["_target_staff"] = author[1]


def _rule(mine: EngagementSettings, shared: CommunitySettings) -> tuple[bool, frozenset[str]]:
    roles = {r.id for r in (mine.staff_role, shared.moderator_role) if r is not None}
    return mine.enabled, frozenset(roles)


def _row(event: Event, at: datetime, staff_roles: frozenset[str]) -> dict[str, Any] | None:
    """The raw event row for a domain event, or None when it is not stored (bots)."""
    base: dict[str, Any] = {
        "community_id": event.community.key,
        "at": at,
        "day": day_of(at),
        "channel_id": None,
        "thread_id": None,
        "message_id": None,
        "target_key": None,
        "target_user_id": None,
        "length": 0,
        "attachments": 0,
        "is_question": False,
        "sentiment": None,
        "from_staff": False,
    }
    if isinstance(event, MessagePosted):
        author = event.author
        if author.is_bot:
            return None
        channel = event.message.channel
        staff = author.level >= Level.MOD or any(r.id in staff_roles for r in author.roles)
        base.update(
            key="m:" + message_key(event.message),
            kind="message",
            user_id=author.ref.id,
            channel_id=channel.id,
            thread_id=channel.thread or (channel.id if event.in_thread else None),
            message_id=event.message.id,
            target_key=target_key(event),
            length=len(event.text),
            attachments=event.attachments,
            is_question=is_question(event.text),
            sentiment=sentiment(event.text),
            from_staff=staff,
        )
    elif isinstance(event, ReactionAdded | ReactionRemoved):
        added = isinstance(event, ReactionAdded)
        mkey = message_key(event.message)
        suffix = "" if added else f":{at.isoformat()}"
        base.update(
            key=f"{'r' if added else 'u'}:{mkey}:{event.user.id}:{event.emoji}{suffix}",
            kind="reaction" if added else "unreaction",
            user_id=event.user.id,
            channel_id=event.message.channel.id,
            message_id=event.message.id,
            target_key=mkey,
        )
    elif isinstance(event, MessageEdited | MessageDeleted):
        edited = isinstance(event, MessageEdited)
        mkey = message_key(event.message)
        editor = event.author if isinstance(event, MessageEdited) else None
        base.update(
            key=f"{'e' if edited else 'd'}:{mkey}:{event.at.isoformat()}",
            kind="edit" if edited else "delete",
            user_id=editor.id if editor is not None else "",
            channel_id=event.message.channel.id,
            message_id=event.message.id,
        )
        if isinstance(event, MessageEdited):
            base.update(length=len(event.text), is_question=is_question(event.text))
    elif isinstance(event, MemberJoined):
        if event.member.is_bot:
            return None
        base.update(
            key=f"j:{event.member.ref.id}:{event.at.isoformat()}",
            kind="join",
            user_id=event.member.ref.id,
        )
    elif isinstance(event, MemberLeft):
        base.update(
            key=f"l:{event.user.id}:{event.at.isoformat()}", kind="leave", user_id=event.user.id
        )
    else:
        return None
    return base


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
        if kind not in ("message", "reaction"):
            continue
        cid, day, user, channel = r["community_id"], r["day"], r["user_id"], r["channel_id"]
        delta: dict[str, float] = {}
        if kind == "reaction":
            delta["reactions"] = 1
        else:
            delta["messages"] = 1
            delta["questions"] = 1 if r["is_question"] else 0
            delta["sentiment_sum"] = r["sentiment"] or 0.0
            delta["sentiment_n"] = 1
            to = r.get("target_user_id")
            if to is not None and to != user:
                delta["replies"] = 1
                edges[(cid, day, channel, user, to)] += 1
                if not r.get("_target_staff", False):
                    delta["staff_replies" if r["from_staff"] else "p2p_replies"] = 1
        for bucket in (members[(cid, day, user)], channels[(cid, channel, day, user)]):
            for name, value in delta.items():
                bucket[name] += value
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


def _keep(column: str, newer_wins: bool) -> str:
    better = ">" if newer_wins else "<"
    t = f"engagement_members.{column}"
    return (
        f"{column} = CASE WHEN excluded.{column} IS NOT NULL AND ({t} IS NULL OR "
        f"excluded.{column} {better} {t}) THEN excluded.{column} ELSE {t} END"
    )


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
        + ", ".join(
            [_keep("joined_day", False), _keep("first_day", False), _keep("last_day", True)]
        )
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


def _dollars(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …``."""
    parts = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


PG_SQL = {name: _dollars(sql) for name, sql in SQL.items()}


class _Writer:
    """One flush's statements on the raw driver connection, inside SQLAlchemy's transaction.

    The rows go to the driver as tuples (no per-row SQLAlchemy work): on SQLite an
    ``executemany`` of ``INSERT OR IGNORE``, and the new rows found by rowid; on PostgreSQL
    ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO NOTHING
    RETURNING key``. The rollups are one ``executemany`` upsert per table.
    """

    def __init__(self, driver: Any, dialect: str) -> None:
        self.driver = driver
        self.pg = dialect == "postgresql"

    @classmethod
    async def open(cls, conn: AsyncConnection, dialect: str) -> _Writer:
        """The writer on ``conn``; on PostgreSQL this also begins the transaction."""
        if dialect == "postgresql":
            # Every read of a flush is a lookup by key: keep them on the indexes even when the
            # table grew faster than autovacuum's statistics (a "tiny" table gets seq-scanned).
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
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
        return cls(driver, dialect)

    async def _many(self, name: str, params: list[tuple[Any, ...]]) -> None:
        if params:
            await self.driver.executemany((PG_SQL if self.pg else SQL)[name], params)

    def _time(self, at: datetime) -> Any:
        return at if self.pg else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

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
            await self.driver.executemany(SQL["raw"], records)
            async with self.driver.execute(
                "SELECT community_id, key FROM engagement_events WHERE id > ?", (before,)
            ) as cursor:
                new = {(f[0], f[1]) for f in await cursor.fetchall()}
        return [r for r in rows if (r["community_id"], r["key"]) in new]

    async def _days(self, members: dict[tuple[str, int, str], dict[str, float]]) -> None:
        """Per community-day: members active for the first time that day, and the sums.

        The member-days are inserted empty first (``ON CONFLICT DO NOTHING``); the ones that
        were new make the day's ``active`` grow, in the same transaction as everything else.
        """
        if not members:
            return
        keys = list(members)
        fresh: Counter[tuple[str, int]] = Counter()
        if self.pg:
            found = await self.driver.fetch(
                "INSERT INTO engagement_member_days (community_id, day, user_id, "
                + ", ".join(COUNTS)
                + ") SELECT c, d, u"
                + ", 0" * len(COUNTS)
                + " FROM unnest($1::varchar[], $2::int[], $3::varchar[]) AS k(c, d, u) "
                "ON CONFLICT DO NOTHING RETURNING community_id, day",
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
            )
            fresh.update((f[0], f[1]) for f in found)
        else:
            # As for the raw rows: the new member-days are the rows past the largest rowid.
            async with self.driver.execute(
                "SELECT coalesce(max(rowid), 0) FROM engagement_member_days"
            ) as cursor:
                (before,) = await cursor.fetchone()
            await self.driver.executemany(SQL["member_days_seen"], keys)
            async with self.driver.execute(
                "SELECT community_id, day, count(*) FROM engagement_member_days "
                "WHERE rowid > ? GROUP BY community_id, day",
                (before,),
            ) as cursor:
                for cid, day, n in await cursor.fetchall():
                    fresh[(cid, day)] = n
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
            "member_days",
            [(c, d, u, *(v[n] for n in COUNTS)) for (c, d, u), v in members.items()],
        )
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
