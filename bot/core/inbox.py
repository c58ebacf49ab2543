"""Platform events stored before they are acknowledged: what was acked is never lost to a kill.

Slack takes an acked event as delivered and never sends it again, so an event acked and held
only in memory was lost when the process was killed before its listeners stored their work.
Here the adapter stores the raw event first (:meth:`Inbox.store`, bounded so Slack's 3-second
ack window is kept) and acks only once its row is committed; a store that does not finish in
time is not acked (Slack sends the event again) and goes on in the background. Events that
arrive while a store is under way (or waits for SQLite's one writer) are stored together by
the next one, in one transaction: a join storm's hundreds of events a second each cost a
transaction before, and on SQLite each queued for the writer with the welcomes. A lone event
is stored at once, as before; a batch the database refuses for a reason that is not its own
trouble (one event's row it cannot take) is stored again one event at a time, so one event
never takes the others' acks with it. When the
event's listeners are done (or their failure was kept) and what the features buffered for it
is on disk (``Feature.written``: engagement's writer process), :meth:`Inbox.done` deletes the
row and notes the id as handled, in one transaction, batched. Rows left by a stopped process
are read back on start (:meth:`Inbox.leftovers`) and handled again in the order they came.

Several processes share one PostgreSQL database, so a row names the process that stored it
(``owner``) and how long that process holds it (``lease_until``, renewed while it lives). A
process starting up, or looking every minute, takes only rows whose lease has passed: a
killed process's events are handled by another one within about a minute, even if it is
never started again, and a row a live process is handling is left to it. On SQLite (one
process at a time) a starting process takes every row at once.

While the database is away no row can be written before the ack: the event goes to this
process's local journal first (``bot.core.spill``, fsynced before the ack) and is moved into
the inbox when the database answers; journals a killed process left are read into the inbox
when a process starts (before its leftovers are read) and every minute with the adoption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select, update

from bot.core.activity import Activity
from bot.core.clock import Clock
from bot.core.handled import KEEP_FOR
from bot.core.ids import claimer_name
from bot.core.spill import Journal, Leftovers, Spilled
from bot.core.transient import database_trouble
from bot.db.inserts import insert_each_ignored, insert_ignore, insert_new
from bot.db.models import HandledEvent, InboxEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.inbox")
RETRY_FIRST = 0.5
RETRY_MOST = 30.0
"""Seconds between tries (doubling) to write what the database refused."""
STORE_FOR = 600.0
"""Seconds a store goes on trying in the background (Slack's retries span about 6 minutes):
an event that reached Steward is handled once it is stored, acked or not."""
MAX_REPLAYS = 10
"""Starts that began handling a leftover row again; after that it is dropped (and logged): an
event whose handling kills the process must not stop every later start. Counted when its turn
comes, not when it is read: a process killed early in its replay counts only what it began.
Only a row older than ``DROP_AFTER`` is dropped: a row whose listeners finished but whose
deletion a quick kill cut short (it waits for the features' buffers) is begun on every start
of a crash loop, and must not be dropped for it."""
DROP_AFTER = timedelta(hours=1)
LEASE = timedelta(seconds=60)
"""How long a row stays its owner's without a renewal: a killed process's rows wait this long
for another process (on PostgreSQL; on SQLite the next start takes them at once)."""
RENEW_EVERY = 20.0
"""Seconds between renewals of this process's rows (one UPDATE for all of them)."""
SWEEP_EVERY = timedelta(minutes=10)
"""Expired handled ids are deleted with the first batch cleared after this long."""
MOVE_AT_ONCE = 500
"""Journal events written into the inbox by one statement."""
STORE_AT_ONCE = 100
"""Events stored by one transaction at most (those waiting beyond go with the next)."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    """An event waiting to be stored with the others: its row, and the outcome its store
    waits for (whether it was inserted, whether it was handled before)."""

    key: str
    team_id: str
    body: dict[str, Any]
    outcome: asyncio.Future[tuple[bool, bool]]


@dataclass(frozen=True, slots=True)
class Leftover:
    """An event a stopped process stored and did not finish."""

    key: str
    team_id: str
    body: dict[str, Any]


class Inbox:
    """The inbox rows of one process: stored before the ack, deleted when handled."""

    def __init__(
        self,
        sessions: Callable[[], UnitOfWork],
        clock: Clock,
        activity: Activity,
        written: Callable[[], Awaitable[bool]],
        trouble: Callable[[BaseException], Awaitable[bool]] | None = None,
        *,
        solo: bool = False,
        journals: Path | None = None,
    ) -> None:
        """``written()``: returns once what listeners handed to buffers of their own is on
        disk; False while something still waits in memory (a kept failure not written).
        ``trouble(exc)``: a store failed; returns once the database answers again, True if
        it was away (the dispatcher's gate: one probe for every waiting store).
        ``solo``: only this process uses the database (SQLite): rows it did not store are a
        stopped process's, whatever their lease says.
        ``journals``: the directory of the journals of events acked while the database was
        away (``bot.core.spill``); None: such events are held in memory only."""
        self.sessions = sessions
        self.solo = solo
        self.me = claimer_name()
        self.journal: Journal | None = None
        self._left: Leftovers | None = None
        if journals is not None:
            self.journal = Journal(journals, self.me)
            self._left = Leftovers(journals, self.journal.path)
        self._moving: asyncio.Task[None] | None = None
        self._renewing: asyncio.Task[None] | None = None
        self._swept: datetime | None = None
        self.clock = clock
        self.activity = activity
        self.written = written
        self.trouble = trouble
        self._storing: dict[str, asyncio.Task[bool]] = {}
        self._waiting: list[_Waiting] = []
        """Events whose store waits for the next transaction (``_write``)."""
        self._writing: asyncio.Task[None] | None = None
        self._handled: dict[str, bool] = {}
        """Whether each event stored here was handled before, as its store's transaction
        found (``handled_before``): its listener need not ask the database again."""
        self._finished: set[str] = set()
        self._deleting: asyncio.Task[None] | None = None
        self.stored = 0
        self.refused = 0
        """Stores that did not finish within their bound (the event was not acked)."""
        self.held = 0
        """Events acked while the database was away, before their row was written."""

    async def store(
        self,
        key: str,
        team_id: str,
        body: dict[str, Any],
        within: float,
    ) -> bool | None:
        """Store the event's row; within ``within`` seconds: True once it is committed by
        this call (or an earlier one of this process still running), False when the row was
        there already (another process, or one before a restart, stored it), None when it did
        not finish in time or failed. The store goes on in the background after the bound,
        trying again for ``STORE_FOR`` seconds while the database refuses it."""
        task = self._storing.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.create_task(self._insert(key, team_id, body))
            self._storing[key] = task
            task.add_done_callback(lambda t: self._settled(key, t))
        done, _ = await asyncio.wait({task}, timeout=within)
        if not done or task.cancelled() or task.exception() is not None:
            self.refused += 1
            return None
        return task.result()

    def stored_late(self, key: str, then: Callable[[], None]) -> None:
        """Call ``then`` if the background store of ``key`` commits (after its bound ran out)."""
        task = self._storing.get(key)
        if task is None:
            return

        def call(t: asyncio.Task[bool]) -> None:
            if not t.cancelled() and t.exception() is None and t.result():
                then()

        task.add_done_callback(call)

    def _settled(self, key: str, task: asyncio.Task[bool]) -> None:
        if task.cancelled() or task.exception() is not None:
            if self._storing.get(key) is task:
                del self._storing[key]
            if not task.cancelled():
                log.debug("storing %s failed: %s", key, task.exception())

    async def _insert(self, key: str, team_id: str, body: dict[str, Any]) -> bool:
        pause = RETRY_FIRST
        until = asyncio.get_running_loop().time() + STORE_FOR
        while True:
            try:
                inserted, handled = await self._together(key, team_id, body)
                if inserted:  # handled here: its listener asks (a row left to another, not)
                    self._handled[key] = handled
                self._renew_soon()
                self.stored += inserted
                return inserted
            except Exception as exc:
                if asyncio.get_running_loop().time() + pause > until:
                    raise
                if self.trouble is not None and await self.trouble(exc):
                    continue  # it was away and answers again
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MOST)

    async def _together(self, key: str, team_id: str, body: dict[str, Any]) -> tuple[bool, bool]:
        """Store the event's row with the others waiting (one transaction for them all); once
        committed: whether it was inserted (or taken over), whether it was handled before."""
        outcome: asyncio.Future[tuple[bool, bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(key, team_id, body, outcome))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write(), name="steward-inbox-store")
        return await outcome

    async def _write(self) -> None:
        """Store what waits, a transaction at a time, until nothing does. Each batch is taken
        once its transaction has begun (on SQLite: holds the writer), so what arrived while it
        waited for the writer goes with it."""
        while self._waiting:
            batch: list[_Waiting] = []
            try:
                async with self.sessions() as uow:
                    await uow.session.connection()
                    batch = self._take_waiting()
                    outcomes = await self._rows(uow, batch)
                    await uow.commit()
            except Exception as exc:
                if not batch:  # failed before taking any: every event waiting now tries again
                    batch = self._take_waiting(everything=True)
                if len(batch) > 1 and not database_trouble(exc):
                    await self._each_alone(batch)  # one event's row may be what it refused
                else:
                    for waiting in batch:
                        _settle(waiting.outcome, exc)
                continue
            for waiting, done in zip(batch, outcomes, strict=True):
                _settle(waiting.outcome, done)

    def _take_waiting(self, *, everything: bool = False) -> list[_Waiting]:
        """The events waiting (a batch's worth, or all), their stores still waiting for them."""
        most = len(self._waiting) if everything else STORE_AT_ONCE
        taken, self._waiting = self._waiting[:most], self._waiting[most:]
        return [w for w in taken if not w.outcome.done()]  # a store cancelled meanwhile: gone

    async def _each_alone(self, batch: list[_Waiting]) -> None:
        """Store each event of a refused batch in a transaction of its own: only the one(s)
        the database refuses fail (and are tried again by their stores)."""
        for waiting in batch:
            try:
                async with self.sessions() as uow:
                    [done] = await self._rows(uow, [waiting])
                    await uow.commit()
            except Exception as exc:
                _settle(waiting.outcome, exc)
            else:
                _settle(waiting.outcome, done)

    async def _rows(self, uow: UnitOfWork, batch: list[_Waiting]) -> list[tuple[bool, bool]]:
        """Insert the batch's rows in ``uow``; each one's outcome (inserted or taken over, and
        whether its event was handled before, asked in the same transaction: the listener's
        lookup would be a transaction of its own)."""
        if not batch:
            return []
        now = self.clock.now()
        keys = [w.key for w in batch]
        handled = set(
            await uow.session.scalars(
                select(HandledEvent.key).where(
                    HandledEvent.key.in_(keys), HandledEvent.expires_at > now
                )
            )
        )
        rows = [
            {
                "key": w.key,
                "team_id": w.team_id,
                "body": w.body,
                "received_at": now,
                "replays": 0,
                "owner": self.me,
                "lease_until": now + LEASE,
            }
            for w in batch
        ]
        inserted = await insert_new(uow.session, InboxEvent, rows, InboxEvent.key)
        outcomes = []
        for key in keys:
            # A row there already is ours to handle only if its owner stopped (its lease
            # passed); a live process handling it keeps it (the ack goes out, as it is stored;
            # the owner finishes it).
            mine = key in inserted or await self._take(uow, key)
            outcomes.append((mine, key in handled))
        return outcomes

    async def spill(self, key: str, team_id: str, body: dict[str, Any]) -> None:
        """The database is away: write the event to this process's journal (fsynced; call
        before the ack), to be moved into the inbox when the database answers."""
        self.held += 1
        if self.journal is None:
            return
        event = Spilled(key, team_id, body, self.clock.now())
        await asyncio.to_thread(self.journal.append, event)
        if self._moving is None or self._moving.done():
            self.activity.enter()
            self._moving = asyncio.create_task(self._move(), name="steward-inbox-journal")

    async def _move(self) -> None:
        """Move the journal's events into the inbox (this process's rows: it handles them)
        once the database answers, then empty the journal."""
        assert self.journal is not None
        pause = RETRY_FIRST
        try:
            while self.journal.pending:
                batch = list(self.journal.pending)
                try:
                    await self._into_inbox(batch, owner=self.me)
                except Exception as exc:
                    if self.trouble is not None and await self.trouble(exc):
                        continue  # it was away and answers again
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MOST)
                    continue
                await asyncio.to_thread(self.journal.moved, len(batch))
                self._renew_soon()
        finally:
            self.activity.leave()

    async def _into_inbox(self, events: list[Spilled], owner: str | None) -> None:
        """Write journal events into the inbox, in one transaction: each once (by key), none
        already handled."""
        now = self.clock.now()
        async with self.sessions() as uow:
            keys = list({e.key for e in events})
            handled: set[str] = set()
            for i in range(0, len(keys), MOVE_AT_ONCE):
                handled |= set(
                    await uow.session.scalars(
                        select(HandledEvent.key).where(
                            HandledEvent.key.in_(keys[i : i + MOVE_AT_ONCE])
                        )
                    )
                )
            rows = [
                {
                    "key": e.key,
                    "team_id": e.team_id,
                    "body": e.body,
                    "received_at": e.received_at,
                    "replays": 0,
                    "owner": owner,
                    "lease_until": now + LEASE if owner else None,
                }
                for e in events
                if e.key not in handled
            ]
            for i in range(0, len(rows), MOVE_AT_ONCE):
                await insert_ignore(uow.session, InboxEvent, rows[i : i + MOVE_AT_ONCE])
            await uow.commit()

    async def recover(self) -> int:
        """Read the journals stopped processes left into the inbox (rows of no owner: the
        leftovers' reading takes them), then remove them; how many events they held. Raises
        while the database does not answer (the journals stay, locked by this process)."""
        if self._left is None:
            return 0
        events = await asyncio.to_thread(self._left.read)
        if events:
            await self._into_inbox(events, owner=None)
        await asyncio.to_thread(self._left.release)
        return len(events)

    def forget(self, key: str) -> None:
        """The event was handled: its store task (kept so a redelivery finds it) can go."""
        self._storing.pop(key, None)
        self._handled.pop(key, None)

    def handled_before(self, key: str) -> bool | None:
        """Whether the event was handled before it was stored here (a redelivery after a
        restart), as its store found; None when this process did not store it (a leftover
        read back, an event held while the database was away): ask ``HandledIds``."""
        return self._handled.pop(key, None)

    async def replaying(self, key: str) -> None:
        """A leftover row's handling begins: count it (never in the way if that fails)."""
        with contextlib.suppress(Exception):
            async with self.sessions() as uow:
                await uow.session.execute(
                    update(InboxEvent)
                    .where(InboxEvent.key == key)
                    .values(replays=InboxEvent.replays + 1)
                )
                await uow.commit()

    async def _take(self, uow: UnitOfWork, key: str) -> bool:
        """Make an existing row this process's if its owner stopped; whether it did."""
        now = self.clock.now()
        taken = update(InboxEvent).where(InboxEvent.key == key)
        if not self.solo:
            taken = taken.where(
                or_(
                    InboxEvent.owner.is_(None),
                    InboxEvent.owner == self.me,
                    InboxEvent.lease_until < now,
                )
            )
        result = await uow.session.execute(taken.values(owner=self.me, lease_until=now + LEASE))
        return bool(getattr(result, "rowcount", 0))

    def _renew_soon(self) -> None:
        if self.solo:
            return  # no other process reads the lease (a start takes every row): no writes
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name="steward-inbox-lease")

    async def _renew(self) -> None:
        """Keep this process's rows while it lives: one UPDATE every ``RENEW_EVERY`` s, for as
        long as it has rows (a failed renewal is tried at the next turn)."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                async with self.sessions() as uow:
                    result = await uow.session.execute(
                        update(InboxEvent)
                        .where(InboxEvent.owner == self.me)
                        .values(lease_until=self.clock.now() + LEASE)
                    )
                    await uow.commit()
            except Exception as exc:
                log.debug("renewing the inbox's rows failed: %s", exc)
                continue
            if not getattr(result, "rowcount", 1) and not self._storing:
                return  # nothing held: the next store starts it again

    async def leftovers(self, *, starting: bool = True) -> list[Leftover]:
        """Rows a stopped process left, oldest first, now this process's: at start on SQLite
        every row; otherwise those with no owner or whose owner's lease has passed (another
        process, killed, stopped renewing). One whose handling began on ``MAX_REPLAYS`` starts
        already is dropped (logged)."""
        now = self.clock.now()
        found: list[Leftover] = []
        gone: list[str] = []
        async with self.sessions() as uow:
            query = select(InboxEvent).order_by(InboxEvent.id)
            if not (self.solo and starting):
                query = query.where(
                    InboxEvent.owner.is_distinct_from(self.me),
                    or_(InboxEvent.owner.is_(None), InboxEvent.lease_until < now),
                )
            if uow.session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(await uow.session.scalars(query))
            old = now - DROP_AFTER
            dropped = [r for r in rows if r.replays >= MAX_REPLAYS and r.received_at < old]
            kept = [r for r in rows if r not in dropped]
            if dropped:
                await uow.session.execute(
                    delete(InboxEvent).where(InboxEvent.id.in_([r.id for r in dropped]))
                )
            if kept:
                await uow.session.execute(
                    update(InboxEvent)
                    .where(InboxEvent.id.in_([r.id for r in kept]))
                    .values(owner=self.me, lease_until=now + LEASE)
                )
            found = [Leftover(r.key, r.team_id, dict(r.body)) for r in kept]
            gone = [r.key for r in dropped]
            await uow.commit()
        if found:
            self._renew_soon()
        for key in gone:
            log.error(
                "event %s was begun on %d starts over an hour and never finished; dropped",
                key,
                MAX_REPLAYS,
            )
        return found

    def done(self, key: str) -> None:
        """The event's listeners are done (or their failure was kept): once what they buffered
        is on disk, delete its row and note it handled (soon, with others)."""
        self._finished.add(key)
        if self._deleting is None or self._deleting.done():
            self.activity.enter()
            self._deleting = asyncio.create_task(self._delete(), name="steward-inbox")

    async def _delete(self) -> None:
        pause = RETRY_FIRST
        try:
            while self._finished:
                batch, self._finished = self._finished, set()
                try:
                    if not await self.written():
                        raise RuntimeError("a kept failure is not written yet")
                    now = self.clock.now()
                    async with self.sessions() as uow:
                        rows = [{"key": k, "expires_at": now + KEEP_FOR} for k in sorted(batch)]
                        await insert_each_ignored(uow.session, HandledEvent, rows)
                        await uow.session.execute(
                            delete(InboxEvent).where(InboxEvent.key.in_(sorted(batch)))
                        )
                        sweep = self._swept is None or now - self._swept >= SWEEP_EVERY
                        if sweep:  # handled ids are kept a day, not for ever
                            await uow.session.execute(
                                delete(HandledEvent).where(HandledEvent.expires_at <= now)
                            )
                        await uow.commit()
                    if sweep:
                        self._swept = now
                    for key in batch:
                        self.forget(key)
                    pause = RETRY_FIRST
                except Exception as exc:
                    # The rows stay (a kill now replays them; their ids are not noted yet, so
                    # the replay runs them, and features do their work once).
                    self._finished |= batch
                    if pause == RETRY_FIRST:
                        log.warning(
                            "%d handled events are not cleared from the inbox yet (%s); "
                            "trying again",
                            len(batch),
                            type(exc).__name__,
                        )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RETRY_MOST)
        finally:
            self.activity.leave()

    async def close(self, within: float = 10.0) -> None:
        """Clear what is handled (on shutdown); what is not stays for the next start."""
        if self._deleting is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._deleting), within)
            if not self._deleting.done():
                self._deleting.cancel()
        if self._moving is not None:
            self._moving.cancel()  # what it did not move stays in the journal
        for task in list(self._storing.values()):
            task.cancel()
        if self._writing is not None:
            self._writing.cancel()
        if self._renewing is not None:
            self._renewing.cancel()
        if self.journal is not None:
            self.journal.close()  # what was not moved stays for the next start
        if self._left is not None:
            self._left.let_go()


def _settle(
    outcome: asyncio.Future[tuple[bool, bool]], done: tuple[bool, bool] | BaseException
) -> None:
    """Give a waiting store its outcome (unless it stopped waiting)."""
    if outcome.done():
        return
    if isinstance(done, BaseException):
        outcome.set_exception(done)
    else:
        outcome.set_result(done)
