"""Batched ingest: listeners append to a buffer; one writer flushes it by size or within 250 ms.

A flush is one transaction: the raw events (``INSERT … ON CONFLICT DO NOTHING`` on the
idempotency key, returning what was new) and the rollup increments computed from the new rows
only. A crash before the commit leaves neither, after it both; an event replayed later finds
its key taken and adds nothing, so the rollups never count anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, or_, select, update
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
from cogs.engagement._models import (
    CHANNEL_DAYS,
    CHANNELS,
    EDGES,
    EVENTS,
    MEMBER_DAYS,
    MEMBERS,
    QUESTIONS,
)
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
        max_batch: int = 1000,
        flush_after: float = 0.25,
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
        """Per community: whether tracking is on, and the staff role ids."""
        rules: dict[str, tuple[bool, frozenset[str]]] = {}
        async with self.db.uow() as uow:
            store = SettingsStore(uow.session)
            for key in communities:
                ref = CommunityRef.from_key(key)
                if key not in self._known:
                    # Jobs (catch-up, digest) run for the communities Steward knows about.
                    await ensure_community(uow.session, ref, self.clock.now())
                    await uow.commit()
                    self._known.add(key)
                mine = await store.get(ref, EngagementSettings, "engagement")
                shared = await store.get(ref, CommunitySettings, COMMUNITY_FEATURE)
                roles = {r.id for r in (mine.staff_role, shared.moderator_role) if r is not None}
                rules[key] = (mine.enabled, frozenset(roles))
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
        if rows:
            async with self.db.engine.begin() as conn:
                await self._resolve_targets(conn, rows)
                stmt = (
                    upsert(self.db.dialect, EVENTS)
                    .on_conflict_do_nothing(index_elements=["community_id", "key"])
                    .returning(EVENTS.c.community_id, EVENTS.c.key)
                )
                params = [{k: v for k, v in r.items() if k[0] != "_"} for r in rows]
                result = await conn.execute(stmt, params)
                new = {(r.community_id, r.key) for r in result}
                fresh = [r for r in rows if (r["community_id"], r["key"]) in new]
                await apply_rollups(conn, self.db.dialect, fresh)
            self.stored += len(fresh)
        if self.probe is not None:
            self.probe([p.received for p in batch])

    async def _resolve_targets(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """Fill in who wrote the message each reply or reaction targets, and whether staff."""
        authors: dict[tuple[str, str], tuple[str, bool]] = {
            (r["community_id"], r["key"]): (r["user_id"], r["from_staff"])
            for r in rows
            if r["kind"] == "message"
        }
        wanted: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            target = r["target_key"]
            if target is not None and (r["community_id"], "m:" + target) not in authors:
                wanted[r["community_id"]].add("m:" + target)
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


def _add(stmt: Any, names: Iterable[str], table: Table) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={n: table.c[n] + stmt.excluded[n] for n in names},
    )


async def apply_rollups(conn: AsyncConnection, dialect: str, rows: list[dict[str, Any]]) -> None:
    """Add what new raw rows contribute to every rollup, in the caller's transaction."""
    if not rows:
        return
    members, channels, edges = rollup_deltas(rows)
    if members:
        params = [
            {"community_id": c, "day": d, "user_id": u, **v} for (c, d, u), v in members.items()
        ]
        await conn.execute(_add(upsert(dialect, MEMBER_DAYS), COUNTS, MEMBER_DAYS), params)
    if channels:
        params = [
            {"community_id": c, "channel_id": ch, "day": d, "user_id": u, **v}
            for (c, ch, d, u), v in channels.items()
        ]
        await conn.execute(_add(upsert(dialect, CHANNEL_DAYS), COUNTS, CHANNEL_DAYS), params)
    if edges:
        params = [
            {
                "community_id": c,
                "day": d,
                "channel_id": ch,
                "from_user": a,
                "to_user": b,
                "count": n,
            }
            for (c, d, ch, a, b), n in edges.items()
        ]
        await conn.execute(_add(upsert(dialect, EDGES), ["count"], EDGES), params)
    await _members(conn, dialect, rows)
    await _questions(conn, dialect, rows)
    await _cursors(conn, dialect, rows)


async def _members(conn: AsyncConnection, dialect: str, rows: list[dict[str, Any]]) -> None:
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
    if not spans:
        return
    params = [
        {"community_id": c, "user_id": u, "joined_day": j, "first_day": f, "last_day": la}
        for (c, u), (j, f, la) in spans.items()
    ]
    stmt = upsert(dialect, MEMBERS)
    t, x = MEMBERS.c, stmt.excluded

    def keep(column: str, newer_wins: bool) -> Any:
        better = x[column] > t[column] if newer_wins else x[column] < t[column]
        return case(
            (and_(x[column].is_not(None), or_(t[column].is_(None), better)), x[column]),
            else_=t[column],
        )

    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["community_id", "user_id"],
            set_={
                "joined_day": keep("joined_day", False),
                "first_day": keep("first_day", False),
                "last_day": keep("last_day", True),
            },
        ),
        params,
    )


async def _questions(conn: AsyncConnection, dialect: str, rows: list[dict[str, Any]]) -> None:
    asked = [
        {
            "community_id": r["community_id"],
            "key": r["key"],
            "channel_id": r["channel_id"],
            "thread_id": r["thread_id"],
            "message_id": r["message_id"],
            "user_id": r["user_id"],
            "asked_at": r["at"],
            "day": r["day"],
        }
        for r in rows
        if r["kind"] == "message" and r["is_question"]
    ]
    if asked:
        await conn.execute(upsert(dialect, QUESTIONS).on_conflict_do_nothing(), asked)
    answers = sorted(
        (
            r
            for r in rows
            if r["kind"] == "message"
            and r.get("target_user_id") is not None
            and r["target_user_id"] != r["user_id"]
        ),
        key=lambda r: r["at"],
    )
    q = QUESTIONS.c
    for r in answers:
        await conn.execute(
            update(QUESTIONS)
            .where(
                q.community_id == r["community_id"],
                q.key == "m:" + r["target_key"],
                or_(q.answered_at.is_(None), q.answered_at > r["at"]),
            )
            .values(answered_at=r["at"], answered_by=r["user_id"])
        )


async def _cursors(conn: AsyncConnection, dialect: str, rows: list[dict[str, Any]]) -> None:
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for r in rows:
        if r["kind"] != "message":
            continue
        seq = sequence(r["message_id"])
        where = (r["community_id"], r["channel_id"])
        if where not in latest or seq > latest[where][0]:
            latest[where] = (seq, r["message_id"])
    if not latest:
        return
    stmt = upsert(dialect, CHANNELS)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["community_id", "channel_id"],
            set_={
                "last_seq": stmt.excluded.last_seq,
                "last_message_id": stmt.excluded.last_message_id,
            },
            where=stmt.excluded.last_seq > CHANNELS.c.last_seq,
        ),
        [
            {"community_id": c, "channel_id": ch, "last_seq": s, "last_message_id": m}
            for (c, ch), (s, m) in latest.items()
        ],
    )
