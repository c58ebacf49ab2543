"""Deliveries through the outbox: written with the handler's change, sent after it commits.

A handler calls ``ctx.deliver(target, message, key=...)``: one ``outbox`` row in its own
transaction. Once that commits, the :class:`Deliverer` sends it, records where it landed, and on
a failure that may pass (5xx, network) tries again later with backoff. Rows of one lane (a
channel, or one member's DMs) go out in the order they were written: a row waiting for a retry
holds back the rows behind it. A refusal (missing permission, DMs closed, unknown channel), or
a failure that lasts ``MAX_ATTEMPTS`` tries, ends the row as ``failed`` with its reason.

Several processes share the rows through the database. A process *claims* a lane's next rows
(locked while it marks them, so two claims of one lane take turns and never skip its head):
``claimed_by`` names it and ``due_at`` becomes its lease, which it renews every ``RENEW_EVERY``
while the row is in flight or its outcome is not written yet. A send that takes long (up to
``SEND_TIMEOUT``: a slow platform, a 429's Retry-After) keeps its row; only a claim whose
process stopped renewing (killed, paused, cut off from the database) is taken over, once its
lease has passed. (On SQLite one process uses the file: a start frees the claims left in it,
due ``LANDS`` on, so the look finds what the stopped process sent as it died.)

A try is bounded so that a takeover never races it: it starts only while ``SAFE_TO_SEND``
(``SEND_TIMEOUT`` + ``LANDS``) of its lease is left, and is cut at ``SEND_TIMEOUT``; a process
that cannot renew sends nothing more once its lease runs short. So by the time a lease passes,
every request its try made has been given up and, allowing ``LANDS`` for the platform to apply
one late, has landed: the taker's look finds it. A try cut short is retried the same way, never
sooner than ``LANDS`` after it.

A crash between the platform taking a message and the record: the row stays pending with
``attempted_at`` set, and the next attempt is a *resend*: Discord gets the same ``nonce`` with
``enforce_nonce`` (it answers with the message already posted), Slack is searched for the key
in the metadata of the channel's messages since the row was queued before anything is posted
again. A record that fails while the process lives (the database away) is not left to that
look: the outcome stays noted, the claim renewed, and it is written once the database answers.

Deliveries marked :class:`~bot.core.together.Together` that wait at the same time in a channel's
lane (its rate limit holds them back) go out as one post: the claim that takes them writes the
merged message on the first row, with the keys of the others, and marks the others ``merged``;
the post's outcome is recorded on all of them. A resend sends that same post, so a kill never
splits or repeats it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, literal, select, update

from bot.core._outbox_rows import (
    CLAIM_BATCH,
    CLAIMS_AT_ONCE,
    LANDS,
    LEASE,
    MAX_ATTEMPTS,
    RENEW_EVERY,
    RETRY_LANE,
    SAFE_TO_SEND,
    SEND_TIMEOUT,
    Claimed,
    Delivery,
    Lane,
    Sent,
    Status,
    backoff,
    in_lane,
    pending_in,
    read_delivery,
    row_key,
)
from bot.core.activity import Activity
from bot.core.clock import Clock
from bot.core.errors import NotFound, NotSupported, Unavailable, UserError
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform, UserRef, claimer_name
from bot.core.message import Message
from bot.core.outage import trouble
from bot.core.pacing import BACKLOG
from bot.core.port import LOOKS_SETTLED_AFTER, Port
from bot.core.together import COVERS, TOGETHER, Together, kind_of, merge
from bot.core.wire import decode, encode
from bot.db.inserts import insert_ignore
from bot.db.models import OutboxItem
from bot.db.uow import UnitOfWork

__all__ = [
    "MAX_ATTEMPTS",
    "Claimed",
    "Deliverer",
    "Delivery",
    "Lane",
    "Outbox",
    "Sent",
    "Status",
    "backoff",
    "row_key",
]

log = logging.getLogger("steward.outbox")
_ROWS = cast(Table, OutboxItem.__table__)
_SETTLE = update(_ROWS).where(
    _ROWS.c.idempotency_key == bindparam("row_key"), _ROWS.c.status == "pending"
)
"""A try's outcome written on its row, still pending (the values come with the row's key)."""
_GIVE_UP = _SETTLE.where(_ROWS.c.claimed_by == bindparam("row_owner"))
"""The same for a try that came to nothing, on a row this process still holds."""
RECORD_AGAIN = timedelta(seconds=30)
"""The longest wait between tries to write outcomes while the database is away."""
EDIT_OF = "edit_of"
"""In an edit row's payload: the stored key of the post it changes."""


class Outbox:
    """The outbox as one handler call sees it (``ctx.deliver`` and ``ctx.delivery``)."""

    def __init__(
        self,
        uow: UnitOfWork,
        community: CommunityRef,
        feature: str,
        clock: Clock,
        deliverer: Deliverer | None,
    ) -> None:
        self.uow = uow
        self.community = community
        self.feature = feature
        self.clock = clock
        self.deliverer = deliverer
        self.outcomes: dict[str, Delivery] = {}
        # This transaction's lanes, in the order first used: how many rows each got, and the
        # first attempt taken with the row when nothing was ahead of it.
        self._lanes: dict[Lane, int] = {}
        self._first: dict[Lane, Claimed] = {}

    async def edit(self, channel: ChannelRef, message: Message, *, of: str, key: str) -> bool:
        """Queue an edit of the post delivered to ``channel`` with key ``of``, once per ``key``.

        It goes out in the channel's lane, after the post itself: the latest edit queued is
        what stays. False when the key was used."""
        return await self.deliver(channel, message, key=key, edit_of=of)

    async def deliver(
        self,
        target: ChannelRef | UserRef,
        message: Message,
        *,
        key: str,
        edit_of: str | None = None,
        together: Together | None = None,
    ) -> bool:
        """Queue ``message`` for ``target`` once per ``key``; False when the key was used.

        ``together``: a channel post that may share one post with others of its kind waiting
        in the channel's lane (see :mod:`bot.core.together`)."""
        now = self.clock.now()
        kind = "dm" if isinstance(target, UserRef) else "channel"
        stored = row_key(self.community, self.feature, key)
        payload = encode(message)
        if edit_of is not None:
            payload[EDIT_OF] = row_key(self.community, self.feature, edit_of)
        if together is not None and kind == "channel":
            payload[TOGETHER] = [together.kind, together.values]
        lane = (self.community.key, kind, target.id)
        # Nothing ahead in its lane: this process takes the first attempt now, in the same
        # transaction, and makes it right after the commit (no claim transaction of its own).
        first = self.deliverer is not None and not await pending_in(self.uow, lane)
        values: dict[str, Any] = {
            "community_id": self.community.key,
            "idempotency_key": stored,
            "feature": self.feature,
            "kind": kind,
            "channel_id": target.id,
            "thread": target.thread if isinstance(target, ChannelRef) else None,
            "payload": payload,
            "status": "pending",
            "created_at": now,
            "due_at": now + LEASE if first else now,
            "attempted_at": now if first else None,
            "attempts": 0,
            "claimed_by": self.deliverer.me if first and self.deliverer is not None else None,
        }
        if not await insert_ignore(self.uow.session, OutboxItem, values):
            return False
        if self.deliverer is not None:
            if not self.uow.will_run(self._send):  # the first row since a commit or rollback
                self._lanes, self._first = {}, {}
                self.uow.after_commit(self._send)
            self._lanes[lane] = self._lanes.get(lane, 0) + 1
            if first:
                self._first[lane] = Claimed(
                    stored,
                    self.community,
                    self.feature,
                    kind,
                    target.id,
                    values["thread"],
                    values["payload"],
                    1,
                    None,
                    values["due_at"],
                )
        return True

    async def _send(self) -> None:
        """After the commit: each lane's rows go out in order, the lanes side by side (the
        platforms limit each channel on its own: a channel with 150 posts, 30 windows of
        Discord's 5, must not hold back the others). Returns once every lane has drained."""
        lanes, firsts = self._lanes, self._first
        self._lanes, self._first = {}, {}
        deliverer = self.deliverer
        assert deliverer is not None

        async def lane(lane: Lane, rows: int) -> None:
            claimed = firsts.get(lane)
            try:
                if claimed is not None:
                    claimed = dataclasses.replace(claimed, behind=rows - 1)
                    self.outcomes[claimed.key] = await deliverer.send_claimed(claimed)
                    rows -= 1
                if rows:
                    await deliverer.drain(lane)
            except Exception as exc:
                # The rows are committed: the lane is drained again in a moment.
                trouble.said(log, "draining a channel's outbox (again shortly)", exc)
                deliverer.drain_later(lane)

        await asyncio.gather(*(lane(key, rows) for key, rows in lanes.items()))

    async def delivery(self, key: str) -> Delivery | None:
        """What became of the delivery with this key (None: there is none).

        A delivery this handler made is answered from memory; others are read in a short
        transaction of their own, so asking after a commit takes no lock the handler would then
        hold while it talks to the platform.
        """
        stored = row_key(self.community, self.feature, key)
        if stored in self.outcomes:
            return self.outcomes[stored]
        noted = self.deliverer.known(stored) if self.deliverer is not None else None
        if noted is not None:
            return noted
        if self.deliverer is None:
            return await read_delivery(self.uow, self.community, stored)
        async with self.deliverer.reads() as uow:
            return await read_delivery(uow, self.community, stored)


class Deliverer:
    """Sends pending outbox rows, lane by lane, in order; one per process."""

    def __init__(
        self,
        sessions: Callable[[], UnitOfWork],
        ports: Mapping[Platform, Port],
        clock: Clock,
        activity: Activity | None = None,
        reads: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions
        """Units of work that only read (on SQLite they skip the queue for the write lock)."""
        self.ports = ports
        self.clock = clock
        self.activity = activity or Activity()
        self.wake: Callable[[datetime], None] = lambda _at: None
        self._locks: dict[Lane, tuple[asyncio.Lock, int]] = {}
        """Each lane in use here: its lock and how many hold it or wait for it (dropped at 0,
        so a lock per newcomer's DM lane does not stay for the life of the process)."""
        self._waiting: set[Lane] = set()
        # Outcomes known here and not yet written: recorded together, a few at a time.
        self._unflushed: dict[str, Sent] = {}
        self._flushing: asyncio.Task[None] | None = None
        self._draining: set[asyncio.Task[int]] = set()
        # Retries of lanes whose drain failed, waiting for their moment (counted as activity).
        self._later: set[asyncio.TimerHandle] = set()
        # A lane's next rows, claimed while its last claimed row waits out the channel's window
        # (its sender holds the lane's lock; the next holder sends them first).
        self._ahead: dict[Lane, asyncio.Task[list[Claimed]]] = {}
        # Lanes drain side by side, but claim their rows a few at a time: 200 lanes claiming at
        # once would hold every pooled connection (and SQLite's one writer) until the pool
        # timed out, leaving lanes undrained.
        self._claims = asyncio.Semaphore(CLAIMS_AT_ONCE)
        self.me = claimer_name()
        """This process in ``outbox.claimed_by``."""
        # The rows this process holds (claimed, in flight or their outcome not written yet),
        # with their lease's end as last written; renewed in the background while any is held.
        self._held: dict[str, datetime] = {}
        self._renewing: asyncio.Task[None] | None = None
        # Rows claimed and then not sent (the row before them must wait): their claims are
        # given up with the next write of outcomes.
        self._releasing: set[str] = set()
        self._stopping = asyncio.Event()

    def known(self, key: str) -> Delivery | None:
        """An outcome this process knows and has not written yet."""
        sent = self._unflushed.get(key)
        return None if sent is None else sent.delivery

    async def run_due(self) -> int:
        """Start draining every lane whose first pending row is due; return how many lanes.

        Lanes drain side by side, each in its own order: the platforms limit each channel on
        its own (5 messages per 5 s on Discord, 1 a second on Slack), so one busy channel must
        not hold the others back; the adapters keep the whole under the global limits.
        """
        now = self.clock.now()
        async with self.reads() as uow:
            heads = (
                select(
                    OutboxItem.community_id,
                    OutboxItem.kind,
                    OutboxItem.channel_id,
                    func.min(OutboxItem.id).label("head"),
                )
                .where(OutboxItem.status == "pending")
                .group_by(OutboxItem.community_id, OutboxItem.kind, OutboxItem.channel_id)
                .subquery()
            )
            lanes = list(
                await uow.session.execute(
                    select(heads.c.community_id, heads.c.kind, heads.c.channel_id)
                    .join(OutboxItem, and_(OutboxItem.id == heads.c.head))
                    .where(OutboxItem.due_at <= now)
                    .order_by(heads.c.head)
                )
            )
        for community_id, kind, channel_id in lanes:
            self.drain_soon((community_id, kind, channel_id))
        return len(lanes)

    def drain_soon(self, lane: Lane) -> None:
        """Drain ``lane`` in the background (counted as activity until it is done)."""
        if lane in self._waiting:
            return  # a drain waiting for the lane will see the new rows
        self.activity.enter()
        task = asyncio.create_task(self._drain_in_background(lane), name="steward-outbox-lane")
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    def drain_later(self, lane: Lane) -> None:
        """Drain ``lane`` again in a moment (a drain failed on something passing, such as a
        busy database), not only with the next pass over due rows. The wait counts as activity:
        Steward is not quiet while a lane is still to be drained."""
        self.activity.enter()

        def again() -> None:
            self._later.discard(handle)
            try:
                self.drain_soon(lane)
            finally:
                self.activity.leave()

        handle = asyncio.get_running_loop().call_later(RETRY_LANE.total_seconds(), again)
        self._later.add(handle)

    async def _drain_in_background(self, lane: Lane) -> int:
        try:
            return await self.drain(lane)
        except Exception as exc:
            trouble.said(log, "draining a channel's outbox (again shortly)", exc)
            self.drain_later(lane)
            return 0
        finally:
            self.activity.leave()

    async def next_due(self) -> datetime | None:
        """When the earliest pending row is due."""
        async with self.reads() as uow:
            found: datetime | None = await uow.session.scalar(
                select(func.min(OutboxItem.due_at)).where(OutboxItem.status == "pending")
            )
        return found

    async def drain(self, lane: Lane) -> int:
        """Send a lane's pending rows in order until one must wait; return how many went out.

        Requests coalesce: while one drain waits for the lane, another request returns at once
        (the waiting drain will see its row), so a storm of deliveries to one channel costs one
        pass, not one per delivery.
        """
        if lane in self._waiting:
            return 0
        self._waiting.add(lane)
        async with self._lane(lane):
            self._waiting.discard(lane)
            return await self._drain(lane)

    async def send_claimed(self, claimed: Claimed) -> Delivery:
        """Make the attempt a handler took with its row.

        Rows queued behind it in this process drain once this returns (their handlers wait on
        the lane's lock); rows another process queued go out with its next pass. A claim whose
        lease ran short before its transaction committed (a slow database) is not used: the row
        is claimed again like any other once the lease has passed.
        """
        untried = Delivery("pending", None, None, claimed.attempt - 1)
        if claimed.due - self.clock.now() < SAFE_TO_SEND:
            return untried
        self._hold([claimed])  # before waiting for the lane: renewed meanwhile
        try:
            async with self._lane(claimed.lane):
                if not await self._still_held(claimed):
                    return untried
                if claimed.behind:
                    self._claim_ahead(claimed)
                done = await self._send(claimed)
                if done.status == "pending":
                    await self._drop_ahead(claimed.lane)
                return await self._record([done])
        finally:
            self._let_go_unrecorded([claimed])

    @contextlib.asynccontextmanager
    async def _lane(self, lane: Lane) -> AsyncIterator[None]:
        """One sender per lane in this process, in the order they came."""
        lock, users = self._locks.get(lane) or (asyncio.Lock(), 0)
        self._locks[lane] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[lane]
            if users > 1:
                self._locks[lane] = (lock, users - 1)
            else:
                del self._locks[lane]

    def _hold(self, claimed: list[Claimed]) -> None:
        """Note rows this process has claimed; their leases are renewed while they are held."""
        for row in claimed:
            self._held[row.key] = row.due
        if claimed and (self._renewing is None or self._renewing.done()):
            self._renewing = asyncio.create_task(self._renew_loop(), name="steward-outbox-lease")

    def _let_go_unrecorded(self, claimed: list[Claimed]) -> None:
        """Stop renewing rows claimed here whose try came to no outcome (not sent, or its send
        cut short): their leases pass and any process (this one too) takes them again, looking
        first. Rows with an outcome to write, or a claim to give up, stay held until written."""
        for row in claimed:
            if row.key not in self._unflushed and row.key not in self._releasing:
                self._held.pop(row.key, None)

    async def _still_held(self, claimed: Claimed) -> bool:
        """Whether enough of the row's lease is left to send it (renewed now if it runs short:
        its renewals failed, or it waited long for its lane)."""
        until = self._held.get(claimed.key)
        if until is not None and until - self.clock.now() < SAFE_TO_SEND:
            with contextlib.suppress(Exception):
                await self.renew()
            until = self._held.get(claimed.key)
        return until is not None and until - self.clock.now() >= SAFE_TO_SEND

    async def _renew_loop(self) -> None:
        failing = False
        while self._held:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RENEW_EVERY.total_seconds())
                return
            try:
                await self.renew()
            except Exception as exc:
                if not failing:
                    log.warning("renewing the outbox's claims failed (%s); trying again", exc)
                failing = True
            else:
                failing = False

    async def renew(self) -> None:
        """Move the lease of every row this process holds ``LEASE`` ahead. A row no longer this
        process's (taken over, after its lease passed) keeps its old lease here, so it is not
        sent (:meth:`_still_held`)."""
        keys = list(self._held)
        until = self.clock.now() + LEASE
        kept: list[str] = []
        async with self.sessions() as uow:
            for at in range(0, len(keys), 500):
                mine = and_(
                    OutboxItem.idempotency_key.in_(keys[at : at + 500]),
                    OutboxItem.claimed_by == self.me,
                    OutboxItem.status == "pending",
                )
                # A row locked now (being claimed, or its outcome written) is renewed next time:
                # a renewal waits for no lock, so it never deadlocks with claims or records.
                ids = list(
                    await uow.session.scalars(
                        select(OutboxItem.id)
                        .where(mine)
                        .order_by(OutboxItem.id)
                        .with_for_update(skip_locked=True)
                    )
                )
                if ids:
                    result = await uow.session.execute(
                        update(OutboxItem)
                        .where(OutboxItem.id.in_(ids), mine)
                        .values(due_at=until)
                        .returning(OutboxItem.idempotency_key)
                        .execution_options(synchronize_session=False)
                    )
                    kept += result.scalars()
            await uow.commit()
        for key in kept:
            if key in self._held:
                self._held[key] = until

    async def free_claims(self) -> int:
        """Give up the claims of other processes (SQLite: one process at a time uses the file,
        so a claim not this process's is a stopped process's); how many rows.

        Freed, not due at once: the stopped process may have sent a row's request a moment
        before it died, and the platform may apply it up to ``LANDS`` later. A row is due
        ``LANDS`` from now, or when its lease ends if that is sooner (by then its try had
        landed): its look then finds what the stopped process posted."""
        landed = literal(self.clock.now() + LANDS, OutboxItem.due_at.type)
        async with self.sessions() as uow:
            result = await uow.session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.status == "pending",
                    OutboxItem.claimed_by.is_not(None),
                    OutboxItem.claimed_by != self.me,
                )
                .values(
                    claimed_by=None,
                    due_at=case((OutboxItem.due_at < landed, OutboxItem.due_at), else_=landed),
                )
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _drain(self, lane: Lane) -> int:
        sent = 0
        batch: list[Claimed] = []
        try:
            while True:
                ahead = self._ahead.pop(lane, None)
                batch = await (ahead if ahead is not None else self._claim(lane))
                if not batch:
                    return sent
                for n, claimed in enumerate(batch, 1):
                    if not await self._still_held(claimed):
                        return sent
                    if n == len(batch) and claimed.behind:
                        self._claim_ahead(claimed)
                    done = await self._send(claimed)
                    # Noted at once and written soon, many at a time, while the lane goes on:
                    # a lane waiting out Discord's window (5 posts, then 5 s) must not hold 5
                    # posts unrecorded. A crash before the write leaves rows marked "may have
                    # gone out", which costs a look (Slack) or a nonce (Discord), never a
                    # repeat; but a nonce lasts minutes, so posts a process keeps sending must
                    # not stay unrecorded.
                    await self._record([done])
                    if done.status == "pending":
                        self._release(batch[n:])  # the rest of the batch waits behind it
                        return sent
                    sent += 1
        finally:
            self._let_go_unrecorded(batch)
            await self._drop_ahead(lane)

    def _claim_ahead(self, sending: Claimed) -> None:
        """Claim the lane's next rows while ``sending`` (its last claimed row) goes out.

        The claim is a write transaction (on SQLite it queues for the one writer); made while
        the row waits out its channel's window, the next row is ready the moment the window
        opens instead of waiting for the database then."""
        lane = sending.lane
        if lane not in self._ahead:
            self._ahead[lane] = asyncio.create_task(
                self._claim(lane, sending=sending.key), name="steward-outbox-claim"
            )

    async def _drop_ahead(self, lane: Lane) -> None:
        """Let go of rows claimed ahead that will not be sent now (the row before them must
        wait): they stay pending, marked as tried, and go out after it."""
        ahead = self._ahead.pop(lane, None)
        if ahead is not None:
            with contextlib.suppress(Exception):
                self._release(await ahead)

    def _release(self, claimed: list[Claimed]) -> None:
        """Give up the claims of rows that will not be sent now, with the next write of
        outcomes (until then they stay held: nothing here takes them meanwhile)."""
        if claimed:
            self._releasing.update(row.key for row in claimed)
            self._flush_soon()

    async def _claim(self, lane: Lane, *, sending: str | None = None) -> list[Claimed]:
        """Take the lane's first pending rows that are due (at most ``CLAIM_BATCH``), in order.

        Each is marked as attempted before anything is sent, so a crash leaves it to be resent
        with a look first; the rows are locked while they are marked (PostgreSQL), so two
        processes never take the same ones.
        """
        now = self.clock.now()
        claimed: list[Claimed] = []
        taken: list[OutboxItem] = []
        # Rows sent or failed whose outcome is not written yet still read as pending: leave them
        # out of the query, or a lane with more than a batch of them would look empty.
        settled = [
            key
            for key, sent in self._unflushed.items()
            if sent.status != "pending" and sent.claimed.lane == lane
        ]
        if sending is not None and sending not in self._unflushed:
            settled.append(sending)  # the row going out now, claimed already
        query = select(OutboxItem).where(in_lane(lane))
        if settled:
            query = query.where(OutboxItem.idempotency_key.not_in(settled))
        async with self._claims, self.sessions() as uow:
            rows = await uow.session.scalars(
                query.order_by(OutboxItem.id).limit(CLAIM_BATCH).with_for_update()
            )
            waiting = await uow.session.scalar(
                select(func.count()).select_from(OutboxItem).where(in_lane(lane))
            )
            waiting = (waiting or 0) - len(settled)
            for row in rows:
                noted = self._unflushed.get(row.idempotency_key)
                if noted is not None and noted.status != "pending":
                    continue  # sent or failed already; only not written yet
                # A row held here is in flight here (however long ago its lease was written);
                # one held elsewhere is due when its lease has passed. The lane stops there.
                if noted is not None or row.idempotency_key in self._held or row.due_at > now:
                    break
                resend = row.created_at if row.attempted_at is not None else None
                # The earlier try's lease (now passed, or freed by a start) bounds when what
                # it sent had landed: a look in the channel read since then may be shared.
                landed_by = self.clock.monotonic_of(row.due_at) if resend is not None else None
                row.attempted_at = now
                row.due_at = now + LEASE
                row.claimed_by = self.me
                claimed.append(
                    Claimed(
                        row.idempotency_key,
                        CommunityRef.from_key(row.community_id),
                        row.feature,
                        row.kind,
                        row.channel_id,
                        row.thread,
                        dict(row.payload),
                        row.attempts + 1,
                        resend,
                        row.due_at,
                        max(waiting - len(claimed) - 1, 0),
                        landed_by,
                    )
                )
                taken.append(row)
            claimed = self._together(taken, claimed)
            if claimed:
                await uow.commit()
                self._hold(claimed)
        return claimed

    @staticmethod
    def _together(rows: list[OutboxItem], claimed: list[Claimed]) -> list[Claimed]:
        """Claimed rows that may share a post, queued one after another and never tried
        before, become one post: the first row carries the merged message and the keys of the
        rows it stands for, which are marked ``merged`` (never claimed on their own). Written
        in the claim's transaction, so a resend after a kill sends the very same post."""
        out: list[Claimed] = []
        at = 0
        while at < len(claimed):
            head = claimed[at]
            kind = kind_of(head.payload) if head.resend is None else None
            end = at + 1
            while (
                kind is not None
                and end < len(claimed)
                and claimed[end].resend is None
                and kind_of(claimed[end].payload) == kind
            ):
                end += 1
            merged = None
            if kind is not None and end - at >= 2:
                payloads = [c.payload for c in claimed[at:end]]
                merged = merge(head.community, kind, payloads)
            if merged is None:
                out.append(head)
                at += 1
                continue
            message, count = merged
            covered = rows[at + 1 : at + count]
            payload = encode(message) | {COVERS: [row.idempotency_key for row in covered]}
            rows[at].payload = payload
            for row in covered:
                row.status = "merged"
                row.due_at = rows[at].due_at
            out.append(dataclasses.replace(head, payload=payload))
            at += count
        return out

    async def _send(self, claimed: Claimed) -> Sent:
        """Send one claimed row; what happened, to be recorded."""
        token = LOOKS_SETTLED_AFTER.set(claimed.settled)
        try:
            return await self._send_claimed(claimed)
        finally:
            LOOKS_SETTLED_AFTER.reset(token)

    async def _send_claimed(self, claimed: Claimed) -> Sent:
        community = claimed.community
        served = self.ports.get(community.platform)
        if served is None:
            error = f"{community.platform} is not served by this process"
            return Sent.of(claimed, None, error, False)
        landed: MessageRef | None = None
        error_text: str | None = None
        final = False
        BACKLOG.set(claimed.behind)
        try:
            port = served.for_feature(claimed.feature)
            message = decode(claimed.payload, community)
            resend = claimed.resend
            # Cut at SEND_TIMEOUT, well inside the lease left (SAFE_TO_SEND): a try whose
            # process cannot renew its claim is over, and what it sent has landed, before
            # another process may take the row and look for it.
            async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
                if claimed.kind == "dm":
                    user = UserRef(community, claimed.channel_id)
                    landed = await port.dm(user, message, key=claimed.key, resend=resend)
                    if landed is None:
                        error_text, final = "their DMs are closed", True
                elif EDIT_OF in claimed.payload:
                    landed, error_text = await self._edit(port, claimed, message)
                    final = error_text is not None
                else:
                    channel = ChannelRef(community, claimed.channel_id, claimed.thread)
                    landed = await port.send(channel, message, key=claimed.key, resend=resend)
        except TimeoutError:
            error_text = f"no answer within {SEND_TIMEOUT.total_seconds():g} s"
            log.warning("delivery %s failed (try %d): %s", claimed.key, claimed.attempt, error_text)
        except UserError as exc:
            error_text, final = exc.message, True
        except NotSupported as exc:
            error_text, final = str(exc), True
        except Exception as exc:
            error_text = f"{type(exc).__name__}: {exc}"
            log.warning("delivery %s failed (try %d): %s", claimed.key, claimed.attempt, error_text)
        return Sent.of(claimed, landed, error_text, final)

    async def _edit(
        self, port: Port, claimed: Claimed, message: Message
    ) -> tuple[MessageRef | None, str | None]:
        """Edit the post an edit row names: where it is, or why it cannot be (for good). The
        post went out first in the same lane; one still waiting makes this try wait too."""
        of = str(claimed.payload[EDIT_OF])
        post = self.known(of)
        if post is None:
            async with self.sessions() as uow:
                post = await read_delivery(uow, claimed.community, of)
        if post is not None and post.status == "pending":
            raise Unavailable("the post to edit is not out yet")
        if post is None or post.message is None:
            return None, "the post to edit was never made"
        try:
            await port.edit(post.message, message)
        except NotFound:
            return None, "the post to edit was deleted"
        return post.message, None

    async def _record(self, done: list[Sent]) -> Delivery:
        """Note what became of each row (written soon, with others: one transaction for many
        deliveries); the last one's outcome."""
        for sent in done:
            self._unflushed[sent.claimed.key] = sent
        self._flush_soon()
        return done[-1].delivery if done else Delivery("failed", None, "nothing was sent", 0)

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self.activity.enter()
            self._flushing = asyncio.create_task(self._flush(), name="steward-outbox-record")

    async def _flush(self) -> None:
        """Write the noted outcomes (and give up the claims released) until none is left.

        While the database is away the outcomes stay noted and their rows held (their claims
        renewed once it answers), and the write is tried again: a row sent is never left to a
        look in the channel, which a busy channel's history or an expired nonce can miss. Only
        a process that stops first leaves rows to be looked for."""
        failed = 0
        try:
            while self._unflushed or self._releasing:
                batch = dict(self._unflushed)
                releasing = set(self._releasing)
                now = self.clock.now()
                try:
                    await self._write(batch, releasing, now)
                except Exception as exc:
                    failed += 1
                    if self._stopping.is_set():
                        log.warning(
                            "recording deliveries failed (%s) as Steward stops; they are tried"
                            " again, looking first",
                            exc,
                        )
                        return
                    if failed == 1:
                        log.warning(
                            "recording deliveries failed (%s); they are recorded once the"
                            " database answers",
                            exc,
                        )
                    wait = min(RETRY_LANE * 2 ** (failed - 1), RECORD_AGAIN)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wait.total_seconds())
                    continue
                if failed:
                    log.info("recorded the deliveries noted while the database was away")
                    failed = 0
                retry: datetime | None = None
                for key, sent in batch.items():
                    if self._unflushed.get(key) is sent:
                        del self._unflushed[key]
                        self._held.pop(key, None)
                        if sent.status == "pending":
                            at = sent.retry_at(now)
                            retry = at if retry is None else min(retry, at)
                for key in releasing:
                    self._held.pop(key, None)
                self._releasing -= releasing
                if retry is not None:
                    self.wake(retry)
        finally:
            self.activity.leave()

    async def _write(self, batch: dict[str, Sent], releasing: set[str], now: datetime) -> None:
        # The outcomes of one shape (the same columns, settled or given up) go in one
        # statement run for many rows: one round trip, one statement built and compiled (a
        # storm's welcomes wrote one UPDATE per row).
        shapes: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
        for key, sent in batch.items():
            values = sent.values(now) | {"row_key": key}
            given_up = sent.status == "pending"
            if given_up:
                values["row_owner"] = self.me
            shapes.setdefault((given_up, tuple(sorted(values))), []).append(values)
        async with self.sessions() as uow:
            for (given_up, _), rows in shapes.items():
                # A try that came to nothing gives the row up only if it is still ours: a
                # process whose record waited out a long outage must not clear the claim of
                # the one that took the row over meanwhile (and may be sending it).
                await uow.session.execute(_GIVE_UP if given_up else _SETTLE, rows)
            for sent in batch.values():
                covers = sent.claimed.payload.get(COVERS)
                if covers and sent.status != "pending":  # the rows its post stood for
                    values = sent.values(now)
                    values.pop("due_at", None)
                    await uow.session.execute(
                        update(OutboxItem)
                        .where(
                            OutboxItem.idempotency_key.in_(covers),
                            OutboxItem.status == "merged",
                        )
                        .values(values)
                    )
            if releasing:
                await uow.session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.idempotency_key.in_(list(releasing)),
                        OutboxItem.claimed_by == self.me,
                        OutboxItem.status == "pending",
                    )
                    .values(claimed_by=None, due_at=now)
                )
            await uow.commit()

    async def close(self) -> None:
        """Stop sending and write what is still noted (the App calls it when it stops); a write
        that fails then is not tried again (the rows are looked for by the next process)."""
        self._stopping.set()
        for handle in list(self._later):
            handle.cancel()
            self.activity.leave()
        self._later.clear()
        for task in list(self._draining):
            task.cancel()
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)
        if self._ahead:
            await asyncio.gather(*self._ahead.values(), return_exceptions=True)
            self._ahead.clear()
        if self._flushing is not None:
            await self._flushing
        if self._renewing is not None:
            await self._renewing
