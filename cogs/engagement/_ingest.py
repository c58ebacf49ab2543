"""Ingest, the bot's side: gateway events become small tuples, queued and sent in batches.

Listeners run inline (no unit of work per event) and only turn an event into an item: the
fields of its raw row, the message text still unscored. Items go to the writer process
(``_writer``), which scores, stores and rolls up each batch in one transaction and acknowledges
it, in batches sized by the writer's pace (group commit): whatever is queued leaves at once while
fewer than ``max_in_flight`` batches await their acknowledgement, else when one is acknowledged,
when ``max_batch`` items are queued, or ``flush_after`` seconds later, whichever comes first. A
quiet community's event is on disk a few milliseconds after it arrives; under a flood the
batches grow until the writer keeps up. Until acknowledged, a batch is kept here: if the writer
dies it is started again and sent what it had not acknowledged. Bots and members who opted out
are dropped before queueing.

While the database does not take the batches (an outage), the writer keeps trying each one and
nothing is dropped, so what waits here would grow without end. Past ``MAX_PENDING`` events the
listener waits (:meth:`Ingest.room`) until the writer catches up: the platform's events are taken
in more slowly, as the dispatcher's bounded intake already does for the other listeners, rather
than dropped (an engagement event is cheap to keep; a member's post lost from the counts is not
found again unless catch-up reaches it). The log says it once when the intake slows and once
when it is back to full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

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
from bot.core.activity import Activity
from bot.core.runtime import Storage
from bot.core.steps import Admission, Gated, Steps
from bot.core.transient import describe, is_transient
from cogs.engagement._rules import CID, USER, Item, Rules, item_of
from cogs.engagement._writer import WriterLink
from cogs.engagement.settings import EngagementSettings

log = logging.getLogger("steward.engagement")
CLOSE_WAIT = 30.0
"""Seconds a shutdown waits for the writer to store what is queued."""
RENEW_REPORT_EVERY = 60.0
"""Seconds between the log's reminders that the rules still can't be read again."""
SLOW_REPORT_EVERY = 60.0
"""Seconds at least between two warnings that the intake slowed down."""
MAX_PENDING = 50_000
"""Events queued or sent and not yet on disk beyond which the listener waits for the writer
(ten full batches; tens of megabytes at most)."""
RULES_RETRY_FIRST, RULES_RETRY_LAST = 0.05, 2.0
"""Seconds between tries to read the settings a batch needs while the database is away."""
TRACKED = (
    MessagePosted,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    MemberJoined,
    MemberLeft,
)


class Ingest:
    """The queue and the link to the writer process, shared by every community of the process."""

    def __init__(
        self,
        db: Storage,
        clock: Clock,
        activity: Activity,
        steps: Steps,
        feature: Gated,
        *,
        max_batch: int = 5000,
        flush_after: float = 0.1,
        max_in_flight: int = 2,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.db = db
        self.clock = clock
        self.activity = activity
        self.steps = steps
        """The dispatcher's steps (registration, settings, enabled, level), run per community
        and batch instead of per event."""
        self.feature = feature
        self.max_batch = max_batch
        self.flush_after = flush_after
        self.max_in_flight = max_in_flight
        self.max_pending = max_pending
        self.held = asyncio.Event()
        """Set while listeners wait for room (:meth:`room`)."""
        self._room = asyncio.Event()
        """Set when a batch was acknowledged: a waiting listener looks again."""
        self._slowed_at: float | None = None
        """``time.monotonic()`` of the last warning that the intake slowed down (at most one a
        minute, however often it flaps)."""
        self._said_slow = False
        """Whether that warning is still to be followed by the one that it is over."""
        self.opted_out: dict[str, set[str]] = defaultdict(set)
        self.parents: dict[str, str] = {}
        """Discord thread id -> its parent channel, learnt from messages (reactions in a
        thread count in the parent channel too)."""
        self.probe: Callable[[Sequence[float]], None] | None = None
        """Called with the arrival times (``perf_counter``) of each batch once it is on disk."""
        self.stored = 0
        self.failures = 0
        self.restarts = 0
        self._buffer: list[Item] = []
        self._arrived: list[float] = []
        self._wake = asyncio.Event()
        """Set when a batch should leave without waiting any longer (full, or an ack came)."""
        self._task: asyncio.Task[None] | None = None
        self._renewing: asyncio.Task[Rules] | None = None
        """Renews expired rules in the background."""
        self._renew_failing: float | None = None
        """``time.monotonic()`` when renewing the rules began to fail; None while it works."""
        self._renew_said = 0.0
        self._seq = 0
        self._unacked: dict[int, tuple[Rules, list[Item], list[float]]] = {}
        self._waiters: dict[int, list[asyncio.Future[None]]] = defaultdict(list)
        self._link: WriterLink | None = None
        self._lock = asyncio.Lock()
        self._writer_failures = 0
        self._crashes: dict[int, int] = defaultdict(int)
        self._deaths = 0
        """Writer exits since the last acknowledged batch (restarts back off)."""

    # -- the queue -----------------------------------------------------------------------------

    def offer(self, event: Event, at: datetime | None = None) -> None:
        """Queue an event; ``at`` is when it counts (default: now, on Steward's clock)."""
        if isinstance(event, MessagePosted) and event.parent_channel:
            self.parents[event.message.channel.id] = event.parent_channel
        item = item_of(event, at or self.clock.now(), self.parents)
        if item is None:
            return
        out = self.opted_out.get(item[CID])
        if out and item[USER] in out:
            return
        self._buffer.append(item)
        if self.probe is not None:
            self._arrived.append(time.perf_counter())
        if len(self._buffer) >= self.max_batch:
            self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="engagement-queue")

    async def room(self) -> None:
        """Wait while more than ``max_pending`` events are not on disk yet (the database is
        away, or slower than the platform): the intake slows down, nothing is dropped."""
        if self.pending < self.max_pending:
            return
        now = time.monotonic()
        last = self._slowed_at
        if not self._said_slow and (last is None or now - last >= SLOW_REPORT_EVERY):
            self._slowed_at, self._said_slow = now, True
            log.warning(
                "%d engagement events are not stored yet (the database does not take them); "
                "new events are taken in more slowly until it does, none is dropped",
                self.pending,
            )
        self.held.set()
        while self.pending >= self.max_pending:
            self._room.clear()
            await self._room.wait()
        self.held.clear()

    @property
    def pending(self) -> int:
        """Events queued or sent and not yet on disk."""
        return len(self._buffer) + sum(len(b[1]) for b in self._unacked.values())

    async def _run(self) -> None:
        self.activity.enter()
        pause = RULES_RETRY_FIRST
        try:
            while self._buffer:
                await asyncio.sleep(0)  # the events of this turn of the loop join the batch
                if (
                    len(self._buffer) < self.max_batch
                    and len(self._unacked) >= self.max_in_flight
                    and self.flush_after > 0
                ):
                    # The writer is busy: this batch grows until it takes more.
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.flush_after)
                try:
                    await self._send_buffered()
                except Exception as exc:
                    # The settings could not be read: the items stay queued. Passing trouble
                    # (the database away) is waited out here, not left until the next event.
                    if not is_transient(exc):
                        log.exception("engagement events wait for the next one: %s", exc)
                        return
                    if pause == RULES_RETRY_FIRST:
                        log.warning("engagement events wait for the database (%s)", exc)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, RULES_RETRY_LAST)
                    continue
                pause = RULES_RETRY_FIRST
        finally:
            self._task = None
            self.activity.leave()

    async def _send_buffered(self) -> None:
        """Send what is queued, ``max_batch`` items per batch."""
        async with self._lock:
            while self._buffer:
                items = self._buffer[: self.max_batch]
                # The rules first: if the database can't give them, the items stay queued.
                rules = await self._staff_rules({item[CID] for item in items})
                del self._buffer[: len(items)]
                arrived = self._arrived[: len(items)]
                del self._arrived[: len(items)]
                self._seq += 1
                self._unacked[self._seq] = (rules, items, arrived)
                self.activity.enter()  # left when the writer acknowledges the batch
                await self._to_writer(("batch", self._seq, rules, items))

    async def _to_writer(self, message: tuple[Any, ...]) -> None:
        """Send a frame (under the lock), starting the writer if needed."""
        if self._link is None or not self._link.alive:
            await self._restart()
            if message[0] == "batch":
                return  # _restart sent every unacknowledged batch, this one included
        assert self._link is not None
        try:
            await self._link.send(message)
        except ConnectionError:
            # The writer died: its exit starts a new one, which is sent what is unacknowledged.
            log.warning("the engagement writer went away while a batch was being sent")

    async def _restart(self) -> None:
        """Start a writer and send it, in order, every batch not acknowledged yet."""
        self._link = WriterLink(self.db.url, self._on_ack, self._on_exit)
        self._writer_failures = 0
        await self._link.start()
        for seq, (rules, items, _arrived) in sorted(self._unacked.items()):
            await self._link.send(("batch", seq, rules, items))

    def _on_ack(self, message: tuple[Any, ...]) -> None:
        _, seq, stored, failures = message
        self.failures += failures - self._writer_failures
        self._writer_failures = failures
        self._deaths = 0
        batch = self._unacked.pop(seq, None)
        self._wake.set()
        self._room.set()
        if self._said_slow and not self.pending:
            self._said_slow = False
            log.warning("engagement events are stored again; the intake is back to full speed")
        if batch is not None:
            self.stored += stored
            if self.probe is not None and batch[2]:
                self.probe(batch[2])
            self._done(seq)

    def _done(self, seq: int) -> None:
        """A batch is on disk (or given up): release who waits for it and the activity count."""
        self.activity.leave()
        self._crashes.pop(seq, None)
        for waiting in [s for s in self._waiters if s <= seq]:
            for future in self._waiters.pop(waiting):
                if not future.done():
                    future.set_result(None)

    def _on_exit(self, link: WriterLink) -> None:
        asyncio.get_running_loop().create_task(self._recover(link))

    async def _recover(self, link: WriterLink) -> None:
        """The writer died: start another, unless someone already did; skip a poison batch."""
        async with self._lock:
            if link is not self._link:
                return
            self.restarts += 1
            self._deaths += 1
            if self._deaths > 1:  # dying again before any batch landed: the database is down?
                await asyncio.sleep(min(0.5 * 2 ** (self._deaths - 2), 30.0))
            if self._unacked:
                oldest = min(self._unacked)
                self._crashes[oldest] += 1
                if self._crashes[oldest] > 3:
                    log.error("the engagement writer died 3 times on one batch; dropping it")
                    del self._unacked[oldest]
                    self._done(oldest)
                    self._room.set()
            await self._restart()

    @property
    def writer_pid(self) -> int | None:
        """The writer process's id while it runs."""
        link = self._link
        return link.process.pid if link is not None and link.alive and link.process else None

    async def start(self) -> None:
        """Start the writer process now rather than at the first event (it takes ~0.5 s)."""
        async with self._lock:
            if self._link is None or not self._link.alive:
                await self._restart()

    async def wait_ready(self) -> None:
        """Start the writer if needed and wait until it is connected to the database."""
        await self.start()
        assert self._link is not None
        await self._link.ready.wait()

    async def flush(self) -> None:
        """Return once everything offered so far is on disk (or was given up on)."""
        await self._send_buffered()
        last = self._seq
        if any(seq <= last for seq in self._unacked):
            future = asyncio.get_running_loop().create_future()
            self._waiters[last].append(future)
            await future

    async def forget(self, community: str, user: str) -> None:
        """A member opted out: nothing more is queued, and the writer forgets their messages."""
        self.opted_out[community].add(user)
        await self.flush()
        async with self._lock:
            if self._link is not None and self._link.alive:
                await self._to_writer(("forget", community, user))

    async def inject_fault(self, statement: str, times: int) -> None:
        """Test hook: the writer's next ``times`` batches fail at ``statement`` (as if the
        database went away mid-transaction)."""
        async with self._lock:
            await self._to_writer(("fault", statement, times))

    async def close(self) -> None:
        """Write what is left and stop the writer (on shutdown); a database still away gets
        ``CLOSE_WAIT`` seconds, never a shutdown that hangs."""
        try:
            await asyncio.wait_for(self.flush(), CLOSE_WAIT)
        except Exception:  # the time ran out, or the database still refuses
            log.error(
                "%d engagement events were not stored before shutdown (the database did not "
                "take them); catch-up fetches what it can on the next start",
                self.pending,
            )
        for task in (self._task, self._renewing):
            if task is not None:
                task.cancel()
        self._task = self._renewing = None
        if self._link is not None:
            link, self._link = self._link, None
            await link.stop()

    # -- per batch -----------------------------------------------------------------------------

    async def prepare(self, community: str) -> None:
        """Read a community's rules now (when it becomes available), so its first batch does
        not wait on the database in the middle of a flood."""
        await self._staff_rules([community])

    async def _staff_rules(self, communities: Iterable[str]) -> Rules:
        """Per community: whether tracking is on, and the staff role ids, as the dispatcher's
        steps decide them (``bot.core.steps``: registration, settings, enabled, level).

        From the process's settings cache (``Steps.peek``), so a batch normally opens no
        session. A settings write in this process drops the entry, and the next batch reads it
        again before it leaves. An entry that merely expired (it bounds how long another
        process's change goes unseen) is used once more while a background read renews it:
        under a flood, a read in the bot waits a turn of the event loop per query, and every
        batch behind it would wait.
        """
        rules: Rules = {}
        missing: list[str] = []
        stale: list[str] = []
        for key in communities:
            found = self.steps.peek(self.db.engine, self.feature, CommunityRef.from_key(key))
            if found is None:
                missing.append(key)
                continue
            rules[key] = _rule(found[0])
            if not found[1]:
                stale.append(key)
        if stale and (self._renewing is None or self._renewing.done()):
            self._renewing = asyncio.create_task(self._renew(stale), name="engagement-rules")
        if missing:
            rules.update(await self._read_rules(missing))
        return rules

    async def _renew(self, communities: list[str]) -> Rules:
        """Read expired rules again; while that fails (the database away), the last ones stay
        in use and the log says so once, then once a minute at most, and once when it works
        again (every batch tries: one line each would flood the log)."""
        try:
            rules = await self._read_rules(communities)
        except Exception as exc:
            now = time.monotonic()
            if self._renew_failing is None:
                self._renew_failing = self._renew_said = now
                log.log(
                    logging.WARNING if is_transient(exc) else logging.ERROR,
                    "reading the engagement settings failed (%s); the last ones stay in use",
                    describe(exc),
                    exc_info=not is_transient(exc),  # a bug's traceback; not an outage's
                )
            elif now - self._renew_said >= RENEW_REPORT_EVERY:
                self._renew_said = now
                log.warning(
                    "reading the engagement settings still fails after %.0f s (%s); the last "
                    "ones stay in use",
                    now - self._renew_failing,
                    describe(exc),
                )
            return {}
        if self._renew_failing is not None:
            log.warning(
                "the engagement settings are read again after %.0f s",
                time.monotonic() - self._renew_failing,
            )
            self._renew_failing = None
        return rules

    async def _read_rules(self, communities: list[str]) -> Rules:
        """Run the steps against the database (which refreshes the settings cache); a
        community seen for the first time is registered, so jobs (catch-up, digest) run for it."""
        rules: Rules = {}
        async with self.db.uow() as uow:
            for key in communities:
                found = await self.steps.read(uow, self.feature, CommunityRef.from_key(key))
                rules[key] = _rule(found)
            await uow.commit()
        return rules


def _rule(found: Admission) -> tuple[bool, frozenset[str]]:
    """Tracking on, and staff: the community's moderators (the level step) and engagement's
    own ``staff_role``."""
    mine: EngagementSettings = found.settings
    roles = set(found.moderator_roles)
    if mine.staff_role is not None:
        roles.add(mine.staff_role.id)
    return found.enabled, frozenset(roles)
