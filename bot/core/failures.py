"""Listener failures kept after their retries ran out: a row each, for the staff and operator.

The dispatcher retries a listener that failed on something passing (``bot.core.transient``);
what still fails is written here with its error id, feature, listener, event kind, a summary
and the event itself, so ``/steward failures show`` shows it to the community's admins,
``steward doctor`` counts it for the operator, and ``/steward failures retry`` hands the same
event to the same listener again (``dismiss`` drops it). If even this write fails (the database
is away), the record waits in memory and is written with the next one, or when the timer loop
next looks.

A failure kept because the trouble outlasted the listener's budget (the database away, a pool
timeout, a platform's 5xx) is also tried again by itself, with growing pauses
(``AUTO_RETRY_DELAYS``): the timer loop finds the due ones and starts their tries in the
background, ``TRIES_AT_ONCE`` at a time, so a pile of them due after an outage never holds up a
timer (a try waits for its deliveries, perhaps for the database); when a try succeeds it leaves
the list. A try
claims its row first (``claimed_until``), so an automatic and a manual retry, or two processes,
never run the same event at once; listeners do their work once however often they run (the
outbox's keys, their own records), which the in-listener retries already need.
"""

from __future__ import annotations

import asyncio
import io
import logging
import pickle
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import func, or_, select, update

from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.ids import CommunityRef
from bot.core.outage import trouble
from bot.core.transient import is_transient
from bot.db.models import FailedEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.failures")


MAX_WAITING = 1000
"""Failures kept in memory while the database cannot take them; beyond it the oldest go."""
AUTO_RETRY_DELAYS = tuple(timedelta(minutes=m) for m in (1, 2, 5, 10, 30, 60, 120, 240))
"""Pauses before each automatic try of a failure kept on passing trouble: 8 tries over about
8 hours; after the last it waits for an admin."""
CLAIM = timedelta(minutes=10)
"""How long a retry holds its row; a process that died meanwhile leaves it to be taken again.
A try renews it before each of its listener's retries (an admin's retry may wait for the
database longer than this), and stops if another try took the row meanwhile."""
DUE_BATCH = 20
"""Automatic tries under way or waiting their turn at most (the timer loop looks again for more
as they finish)."""
TRIES_AT_ONCE = 4
"""Automatic tries running at the same time (each holds a database connection while it runs)."""
WRITE_AGAIN = timedelta(seconds=10)
"""How soon the timer loop tries again to write failures the database refused."""
LOOK_EVERY = timedelta(minutes=1)
"""The longest the timer loop goes without looking for due tries in the database (another
process may have kept some); in between it looks only when one it knows of is due."""

Hold = Callable[[], Awaitable[bool]]
"""Renew a try's claim on its row before the listener runs again; False when another try took
the row meanwhile (this one must stop)."""
Replay = Callable[[str, str, Event, bool, Hold | None], Awaitable[BaseException | None]]
"""Hand an event to the listener (feature, listener name) that failed on it, once only or
with its usual retries, holding the claim before each retry; None when it succeeded, else
what it failed on."""


class Taken(Exception):
    """Another try took the event while this one waited (for the database, or between its
    retries past its claim): this one leaves the event to it."""


class _EventsOnly(pickle.Unpickler):
    """Reads back only what an event is made of (Steward's own classes, times, sets): a row
    altered in the database can't make the process run anything else."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("datetime", "datetime"),
            ("datetime", "timezone"),
            ("datetime", "timedelta"),
            ("builtins", "frozenset"),
            ("builtins", "set"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        """Steward's classes (``bot.core``, ``cogs``) and the few the standard library needs."""
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        ours = ("bot.core.", "cogs.")
        if module.startswith(ours) and not name.startswith("_") and "." not in name:
            # A dotted name would walk into whatever the module imported (``os.system``).
            found = super().find_class(module, name)
            # A class an event is made of, defined by Steward: never a function to call.
            if isinstance(found, type) and found.__module__.startswith(ours):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of an event")


def read_event(data: bytes) -> Event:
    """An event :meth:`Failures.keep` stored."""
    event = _EventsOnly(io.BytesIO(data)).load()
    if not isinstance(event, Event):
        raise pickle.UnpicklingError("not an event")
    return event


@dataclass(frozen=True, slots=True)
class Kept:
    """A failure as the staff see it."""

    id: int
    error_id: str
    feature: str
    event_kind: str
    summary: str
    error: str
    attempts: int
    failed_at: datetime
    retry_at: datetime | None = None
    """The next automatic try, if there is one."""
    retries: int = 0
    """Automatic tries so far."""


def summary_of(event: Event) -> str:
    """A short line about the event (who, where; never message text)."""
    parts = [type(event).__name__]
    for f in fields(event):
        if f.name in ("community", "at", "text"):
            continue
        value = getattr(event, f.name)
        shown = getattr(value, "ref", value)  # a Member shows as its id
        shown = getattr(shown, "id", shown)
        if isinstance(shown, str | int) and not isinstance(shown, bool) and str(shown):
            parts.append(f"{f.name}={shown}")
    return " ".join(parts)[:300]


class Failures:
    """Keeps, lists, counts, retries and dismisses failures; one per process (the dispatcher's)."""

    def __init__(
        self, sessions: Callable[[], UnitOfWork], clock: Clock, replay: Replay | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.replay = replay
        """How an event reaches its listener again (the dispatcher's ``replay``)."""
        self.auto_delays: tuple[timedelta, ...] = AUTO_RETRY_DELAYS
        self.wake: Callable[[datetime], None] = lambda _at: None
        """Tell the timer loop an automatic try is due at that time (set by it)."""
        self._look_at: datetime | None = None
        """When the database is next worth asking for due tries (None: now)."""
        self._unwritten: list[dict[str, Any]] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        """Automatic tries started from the timer loop, by row id, until they finish."""
        self._turns = asyncio.Semaphore(TRIES_AT_ONCE)
        self.dropped = 0
        """Failures dropped from memory because too many waited (their error ids were logged)."""

    def _next_try(self, retries: int, now: datetime) -> datetime | None:
        """When the automatic try after ``retries`` of them is due (None: no more)."""
        return now + self.auto_delays[retries] if retries < len(self.auto_delays) else None

    async def keep(
        self,
        *,
        error_id: str,
        feature: str,
        listener: str,
        event: Event,
        exc: BaseException,
        attempts: int,
    ) -> None:
        """Write the failure (and any that could not be written before); one that failed on
        passing trouble is due to be tried again by itself."""
        now = self.clock.now()
        retry_at = self._next_try(0, now) if is_transient(exc) else None
        self._unwritten.append(
            {
                "error_id": error_id,
                "community_id": event.community.key,
                "feature": feature,
                "listener": listener[:100],
                "event_kind": type(event).__name__[:64],
                "summary": summary_of(event),
                "event": pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL),
                "error": _error_text(exc),
                "attempts": attempts,
                "failed_at": now,
                "status": "failed",
                "retry_at": retry_at,
                "retries": 0,
            }
        )
        if len(self._unwritten) > MAX_WAITING:  # the database is away for long: memory is bounded
            gone = self._unwritten.pop(0)
            self.dropped += 1
            log.error(
                "failure %s could not be recorded and is dropped from memory", gone["error_id"]
            )
        await self.flush()
        if retry_at is not None:
            if self._look_at is None or retry_at < self._look_at:
                self._look_at = retry_at
            self.wake(retry_at)

    async def flush(self) -> None:
        """Write what waits in memory; on failure it keeps waiting (and says so)."""
        if not self._unwritten:
            return
        rows, self._unwritten = self._unwritten, []
        try:
            async with self.sessions() as uow:
                for row in rows:
                    uow.session.add(FailedEvent(**row))
                await uow.commit()
        except Exception as exc:
            self._unwritten = rows + self._unwritten
            log.warning(
                "%d failed events not recorded yet (%s; latest error ids %s); kept in memory",
                len(self._unwritten),
                type(exc).__name__,
                ", ".join(r["error_id"] for r in self._unwritten[-5:]),
            )

    @property
    def waiting(self) -> int:
        """Failures not written to the database yet."""
        return len(self._unwritten)

    async def retry(self, community: CommunityRef) -> tuple[int, int, int]:
        """Hand each kept failure of the community to its listener again, with the listener's
        usual retries (``/steward failures retry``); returns (succeeded, still failing, being
        tried already): one being tried right now is left to that try."""
        async with self.sessions() as uow:
            ids = list(
                await uow.session.scalars(
                    select(FailedEvent.id)
                    .where(
                        FailedEvent.community_id == community.key,
                        FailedEvent.status == "failed",
                    )
                    .order_by(FailedEvent.id)
                )
            )
        done = failing = busy = 0
        for row_id in ids:
            ok = await self._try(row_id, automatic=False)
            done += ok is True
            failing += ok is False
            busy += ok is None
        return done, failing, busy

    async def run_due(self) -> int:
        """Start, in the background, one try of each failure whose automatic try is due (and
        write any that waited in memory first); returns how many were started now. The tries
        run ``TRIES_AT_ONCE`` at a time; :meth:`settle` waits for them."""
        await self.flush()
        now = self.clock.now()
        if self._look_at is not None and now < self._look_at:
            return 0  # nothing known to be due: the timer loop's frequent turns cost no query
        room = DUE_BATCH - len(self._running)
        running = list(self._running)
        ids: list[int] = []
        if room > 0:
            async with self.sessions() as uow:
                ids = list(
                    await uow.session.scalars(
                        select(FailedEvent.id)
                        .where(
                            FailedEvent.status == "failed",
                            FailedEvent.retry_at <= now,
                            _unclaimed(now),
                            FailedEvent.id.not_in(running),
                        )
                        .order_by(FailedEvent.retry_at, FailedEvent.id)
                        .limit(room)
                    )
                )
        for row_id in ids:
            task = asyncio.create_task(self._auto(row_id), name=f"failure-retry-{row_id}")
            self._running[row_id] = task
        if self._running:
            # Those under way say when they finish; the loop looks again then (or in a minute).
            self._look_at = self.clock.now() + LOOK_EVERY
            return len(ids)
        async with self.sessions() as uow:
            due: datetime | None = await uow.session.scalar(
                select(func.min(FailedEvent.retry_at)).where(
                    FailedEvent.status == "failed", FailedEvent.claimed_until.is_(None)
                )
            )
        later = self.clock.now() + LOOK_EVERY
        self._look_at = later if due is None else min(due, later)
        return len(ids)

    async def _auto(self, row_id: int) -> None:
        """One automatic try in the background, when its turn comes; the loop is told when it
        is over, to look for the next ones."""
        try:
            async with self._turns:
                await self._try(row_id, automatic=True)
        except Exception as exc:
            trouble.said(log, "an automatic try of a failed event", exc)
        finally:
            self._running.pop(row_id, None)
            self._look_at = None
            self.wake(self.clock.now())

    async def settle(self) -> None:
        """Wait until the automatic tries under way are over."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop the automatic tries under way (on shutdown); a row one of them claimed is taken
        again when its claim runs out."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        # gather, not a suppressed await: a cancel of the task closing (Ctrl+C during shutdown)
        # must still reach it, or the process ends as if nobody had asked it to stop.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def next_due(self) -> datetime | None:
        """When the timer loop should next look for automatic tries (never looked yet: now;
        failures waiting in memory for the database: in a few seconds, not in a busy loop)."""
        now = self.clock.now()
        if self._unwritten:
            return min(now + WRITE_AGAIN, self._look_at or now + WRITE_AGAIN)
        return now if self._look_at is None else self._look_at

    async def _try(self, row_id: int, *, automatic: bool) -> bool | None:
        """Claim the row, hand its event to its listener, record what came of it; None when
        another try holds it (or it is no longer waiting)."""
        now = self.clock.now()
        due = [FailedEvent.retry_at <= now] if automatic else []
        mine = now + CLAIM
        async with self.sessions() as uow:
            if not await _claim(uow.session, row_id, mine, _unclaimed(now), *due):
                return None
            row = (
                await uow.session.execute(
                    select(
                        FailedEvent.error_id,
                        FailedEvent.feature,
                        FailedEvent.listener,
                        FailedEvent.event,
                    ).where(FailedEvent.id == row_id)
                )
            ).one()
            await uow.commit()

        async def hold() -> bool:
            nonlocal mine
            renewed = self.clock.now() + CLAIM
            async with self.sessions() as uow:
                kept = await _claim(uow.session, row_id, renewed, FailedEvent.claimed_until == mine)
                await uow.commit()
            if not kept:
                return False
            mine = renewed
            return True

        failure: BaseException | None
        try:
            event = read_event(row.event)
        except Exception as exc:
            log.exception("failed event %s can no longer be read", row.error_id)
            failure = exc
        else:
            assert self.replay is not None, "the dispatcher hands its replay in"
            failure = await self.replay(row.feature, row.listener, event, automatic, hold)
        if isinstance(failure, Taken):
            log.info("failed event %s was taken by another try meanwhile", row.error_id)
            return None
        now = self.clock.now()
        async with self.sessions() as uow:
            found = await uow.session.get(FailedEvent, row_id)
            if found is None:
                return failure is None
            found.claimed_until = None
            if failure is None:
                found.status, found.replayed_at, found.retry_at = "replayed", now, None
            else:
                found.attempts += 1
                found.retries += automatic
                found.error = _error_text(failure)
                passing = is_transient(failure) and found.status == "failed"
                found.retry_at = self._next_try(found.retries, now) if passing else None
            await uow.commit()
        if failure is None:
            log.info("failed event %s handled on a retry", row.error_id)
        return failure is None

    async def dismiss(self, community: CommunityRef, error_id: str | None) -> int:
        """Drop the community's kept failure with this error id (every one: None) from the list
        and from the automatic tries; returns how many."""
        which = [] if error_id is None else [FailedEvent.error_id == error_id]
        async with self.sessions() as uow:
            done = await uow.session.execute(
                update(FailedEvent)
                .where(
                    FailedEvent.community_id == community.key,
                    FailedEvent.status == "failed",
                    *which,
                )
                .values(status="dismissed", retry_at=None)
                .execution_options(synchronize_session=False)
            )
            await uow.commit()
        return int(getattr(done, "rowcount", 0) or 0)


async def _claim(session: Any, row_id: int, until: datetime, *where: Any) -> bool:
    """Hold a waiting row until ``until`` when ``where`` holds too: a try's first claim (no one
    holds it) and its renewals (this try still does). Whether the row is now held."""
    done = await session.execute(
        update(FailedEvent)
        .where(FailedEvent.id == row_id, FailedEvent.status == "failed", *where)
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return getattr(done, "rowcount", 0) == 1


def _unclaimed(now: datetime) -> Any:
    """No retry holds the row (or the one that did has run out of time)."""
    return or_(FailedEvent.claimed_until.is_(None), FailedEvent.claimed_until <= now)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


async def listed(session: Any, community: CommunityRef, limit: int = 20) -> tuple[int, list[Kept]]:
    """How many failures the community has kept, and the latest ``limit`` of them."""
    where = (FailedEvent.community_id == community.key, FailedEvent.status == "failed")
    total = await session.scalar(select(func.count()).where(*where))
    rows = await session.scalars(
        select(FailedEvent).where(*where).order_by(FailedEvent.id.desc()).limit(limit)
    )
    kept = [
        Kept(
            r.id,
            r.error_id,
            r.feature,
            r.event_kind,
            r.summary,
            r.error,
            r.attempts,
            r.failed_at,
            r.retry_at,
            r.retries,
        )
        for r in rows
    ]
    return int(total or 0), kept


async def counts(session: Any) -> list[tuple[str, str, int]]:
    """(feature, event kind, failures kept) across every community, for ``steward doctor``."""
    rows = await session.execute(
        select(FailedEvent.feature, FailedEvent.event_kind, func.count())
        .where(FailedEvent.status == "failed")
        .group_by(FailedEvent.feature, FailedEvent.event_kind)
        .order_by(FailedEvent.feature, FailedEvent.event_kind)
    )
    return [(str(f), str(k), int(n)) for f, k, n in rows]
