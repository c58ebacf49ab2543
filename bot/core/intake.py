"""Inbound events through a bounded queue and a fixed set of workers, in order per member.

A burst (a join storm, a raid, a reconnect's backlog) used to start one task per event, all
fighting for the database's few connections until some timed out and their events were lost.
Here at most ``workers`` events are handled at once; the rest wait in lanes, and once
``capacity`` events wait, whoever hands in the next one waits too for room (the adapter's
handler of that event; nothing is dropped).

Order: events about the same member of the same community (a join, then that member's first
message) share a lane and are handled one after the other, in arrival order; events without a
member share their community's lane. Different lanes run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.core.activity import Activity
from bot.core.events import Event
from bot.core.outage import trouble

log = logging.getLogger("steward.intake")
Lane = tuple[str, str]


def lane_of(event: Event) -> Lane:
    """(community, member) for an event about a member, else (community, "")."""
    for name in ("member", "author", "user"):
        who = getattr(event, name, None)
        ref = getattr(who, "ref", who)
        user = getattr(ref, "id", None)
        if isinstance(user, str) and user:
            return event.community.key, user
    return event.community.key, ""


class Intake:
    """The queue between the platform adapters and the listeners."""

    def __init__(
        self,
        handle: Callable[[Event], Awaitable[None]],
        activity: Activity,
        *,
        workers: int = 8,
        capacity: int = 2000,
    ) -> None:
        self.handle = handle
        self.activity = activity
        self.workers = workers
        self.capacity = capacity
        self._lanes: dict[Lane, deque[tuple[Event, asyncio.Future[None]]]] = {}
        self._ready: asyncio.Queue[Lane] = asyncio.Queue()
        self._room: asyncio.Semaphore | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Future[None]] = set()

    async def submit(self, event: Event) -> asyncio.Future[None]:
        """Queue the event (waiting while the queue is full); the future is done once every
        listener has handled it (or kept its failure)."""
        if self._room is None:
            self._room = asyncio.Semaphore(self.capacity)
        self.activity.enter()  # left when the event is handled
        try:
            await self._room.acquire()
        except BaseException:
            self.activity.leave()
            raise
        self._start()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = lane_of(event)
        queued = self._lanes.get(lane)
        if queued is None:
            self._lanes[lane] = deque([(event, done)])
            self._ready.put_nowait(lane)
        else:
            queued.append((event, done))  # its worker takes it after the one before
        self._pending.add(done)
        return done

    @property
    def waiting(self) -> int:
        """Events handed in and not handled yet."""
        return len(self._pending)

    def _start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(), name=f"steward-intake-{i}")
                for i in range(self.workers)
            ]

    async def _work(self) -> None:
        while True:
            lane = await self._ready.get()
            queued = self._lanes[lane]
            event, done = queued.popleft()
            try:
                await self.handle(event)
            except Exception as exc:
                trouble.said(log, f"handling {type(event).__name__}", exc)
            finally:
                self._pending.discard(done)
                if not done.done():
                    done.set_result(None)
                assert self._room is not None
                self._room.release()
                if queued:
                    self._ready.put_nowait(lane)  # the lane's next event, behind other lanes
                else:
                    del self._lanes[lane]
                self.activity.leave()

    async def wait(self, within: float = 30.0) -> None:
        """Wait (up to ``within`` seconds) until what was handed in so far is handled."""
        if self._pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await asyncio.gather(*list(self._pending))

    async def close(self) -> None:
        """Handle what is left (up to 30 seconds), then stop the workers."""
        await self.wait()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
