"""Running what is due: durable one-off timers and recurring jobs (APScheduler 3.x)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.core.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.core.feature import JobSpec
from bot.core.outage import trouble
from bot.db.engine import Database
from bot.db.models import Timer

log = logging.getLogger("steward.scheduler")
IDLE_POLL = timedelta(seconds=60)
IN_HAND_POLL = timedelta(seconds=1)
"""The wait before the next pass when something was still due right after one: it is in hand
(a channel's outbox lane draining here, its next rows waiting for the channel's rate limit; a
timer another process is running), and looking again at once only spun the loop, four queries
a turn, through a storm's welcomes (when it is not, it is picked up this much later)."""
RECOVER_EVERY = timedelta(minutes=1)
"""How often each process looks for job runs a killed process left unfinished."""
OVERRUN_RUNS = 5
"""A run of a recurring job may last this many of its periods ..."""
OVERRUN_LEAST, OVERRUN_MOST = timedelta(minutes=5), timedelta(hours=1)
"""... but never less than the first nor more than the second. Past that it is stopped, so the
next runs go on (a run that never ends would otherwise hold off every later one for good)."""


class TimerService:
    """Runs timers when due: re-armed from the database on start, woken when one is added."""

    def __init__(self, dispatcher: Dispatcher, db: Database, clock: Clock) -> None:
        self.dispatcher = dispatcher
        self.db = db
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next: datetime | None = None
        """When the loop looks next, while it waits (None: a pass is under way)."""
        self._woken: datetime | None = None
        """The soonest time woken for while a pass was under way."""
        dispatcher.wake_timers = self.wake
        # Outbox retries are due by the same clock: one loop runs both.
        self.outbox = dispatcher.deliverer
        self.outbox.wake = self.wake
        # So are the automatic tries of failures kept on passing trouble.
        self.failures = dispatcher.kept
        self.failures.wake = self.wake

    def wake(self, at: datetime) -> None:
        """Something comes due at ``at`` (a timer added, an outbox retry, a failure's try):
        look again sooner if the loop would look later. A join storm schedules a newcomer's
        nudges days ahead with every join: each woke a pass of four queries before."""
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if self._next is None:  # a pass is under way: it looks again after, if need be
            self._woken = at if self._woken is None else min(self._woken, at)
        elif at < self._next:
            self._wake.set()

    async def run_due(self) -> int:
        """Run every timer due by now, each once (waiting for the database while it is away),
        and start the automatic tries of kept
        failures that are due (they run in the background: ``failures.settle()``); return how
        many timers ran."""
        while True:
            now = self.clock.now()
            try:
                async with self.db.uow() as uow:
                    ids = list(
                        await uow.session.scalars(
                            select(Timer.id)
                            .where(Timer.done_at.is_(None), Timer.due_at <= now)
                            .order_by(Timer.due_at, Timer.id)
                        )
                    )
                break
            except Exception as exc:
                # The database away, or busy a moment past the busy timeout: wait for it as
                # listeners do and look again (only a look, so looking again is harmless); the
                # timers due meanwhile run once it answers (each once: ``Dispatcher.run_timer``).
                if not await self.dispatcher.looked_again(exc):
                    raise
        ran = 0
        for timer_id in ids:
            ran += await self.dispatcher.run_timer(timer_id)
        async with self.dispatcher.activity.track():
            await self.outbox.run_due()
        await self.failures.run_due()
        return ran

    async def next_due(self) -> datetime | None:
        """When the earliest pending timer (or outbox retry, or failure's try) is due."""
        async with self.db.uow() as uow:
            result: datetime | None = await uow.session.scalar(
                select(func.min(Timer.due_at)).where(Timer.done_at.is_(None))
            )
        outbox = await self.outbox.next_due()
        failures = await self.failures.next_due()
        due = [
            d if d.tzinfo else d.replace(tzinfo=UTC)
            for d in (result, outbox, failures)
            if d is not None
        ]
        return min(due, default=None)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            self._next = self._woken = None
            try:
                await self.run_due()
                upcoming = await self.next_due()
            except Exception as exc:
                if await self.dispatcher.outlasted(exc):
                    continue  # the database was away: what came due meanwhile runs now
                trouble.said(log, "running due timers (trying again shortly)", exc)
                upcoming = None
            now = self.clock.now()
            if upcoming is None:
                wait = IDLE_POLL
            elif upcoming <= now:
                wait = IN_HAND_POLL  # due already, after a pass: in hand (see IN_HAND_POLL)
            else:
                wait = min(IDLE_POLL, upcoming - now)
            if self._woken is not None:  # woken during the pass: perhaps after its queries
                wait = max(min(wait, self._woken - now), timedelta(0))
            self._next = now + wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait.total_seconds(), 0.0))

    def start(self) -> None:
        """Start the background loop (past-due timers run at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="steward-timers")

    async def stop(self) -> None:
        """Stop the background loop and the automatic tries it started."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.failures.close()


def trigger_for(job: JobSpec, start: datetime) -> BaseTrigger:
    """The APScheduler trigger for a job (cron in UTC, or an interval starting after ``start``)."""
    if job.cron is not None:
        return CronTrigger.from_crontab(job.cron, timezone=UTC)
    assert job.every is not None
    return IntervalTrigger(seconds=job.every.total_seconds(), start_date=start + job.every)


def period_of(trigger: BaseTrigger, now: datetime) -> timedelta:
    """The time between two runs of a trigger from ``now`` (a cron's next two fire times)."""
    first = trigger.get_next_fire_time(None, now)
    second = None if first is None else trigger.get_next_fire_time(first, first)
    if first is None or second is None:
        return OVERRUN_MOST
    period: timedelta = second - first
    return period


def overrun_limit(period: timedelta) -> timedelta:
    """How long one run of a job with that period may last before it is stopped."""
    return max(OVERRUN_LEAST, min(OVERRUN_MOST, period * OVERRUN_RUNS))


class JobService:
    """Recurring jobs: APScheduler runs them in production; tests step them with a fake clock."""

    def __init__(self, dispatcher: Dispatcher, clock: Clock) -> None:
        self.dispatcher = dispatcher
        self.clock = clock
        start = clock.now()
        self._jobs = dispatcher.registry.jobs()
        self._triggers = {job.id: trigger_for(job, start) for job in self._jobs}
        self._next: dict[str, datetime | None] = {
            job.id: self._triggers[job.id].get_next_fire_time(None, start) for job in self._jobs
        }
        self.limits = {
            job.id: overrun_limit(period_of(self._triggers[job.id], start)) for job in self._jobs
        }
        """How long one run of each job may last (seconds of the event loop's clock)."""
        self._running: dict[str, _Run] = {}
        """Each job's latest run under APScheduler."""
        self.overruns = 0
        """Runs stopped for lasting past their limit since the process started."""
        self._scheduler: AsyncIOScheduler | None = None

    async def run_due(self) -> int:
        """Run each job whose time has come once (missed runs coalesce), then take over runs
        a killed process left unfinished; return how many jobs ran."""
        now = self.clock.now()
        ran = 0
        for job in self._jobs:
            due = self._next[job.id]
            if due is None or due > now:
                continue
            await self.dispatcher.run_job(job, due)
            ran += 1
            self._next[job.id] = self._triggers[job.id].get_next_fire_time(due, now)
        await self.recover()
        return ran

    async def recover(self) -> int:
        """Run again, here, each job run whose process stopped before finishing it and whose
        lease has passed (a later run of the job in that community makes up for it instead);
        forget old finished runs. Returns how many were taken over."""
        now = self.clock.now()
        runs = self.dispatcher.job_runs
        async with self.dispatcher.db.uow() as uow:
            await runs.prune(uow.session, now)
            stale = await runs.stale(uow.session, now)
            await uow.commit()
        jobs = {job.id: job for job in self._jobs}
        taken = 0
        for job_id, community, slot in stale:
            job = jobs.get(job_id)
            if job is not None:
                log.warning("job %s in %s was left unfinished; running it here", job_id, community)
                taken += await self.dispatcher.run_job(job, slot, only=community)
        return taken

    async def _recover_logged(self) -> None:
        try:
            await self.recover()
        except Exception as exc:
            trouble.said(log, "looking for unfinished job runs (again in a minute)", exc)

    async def fire(self, job: JobSpec) -> None:
        """APScheduler's call: start a run of ``job`` in the background, unless one still runs.

        A run still going at its next time makes that time skipped (said once per run, at
        info: a slow poll is not trouble yet); one going past its limit (``limits``) is
        stopped, said with a warning, and a new run starts: its transaction is rolled back,
        and the run that replaces it does its work. Without this, one run that never ended
        (a database call with no answer) would hold off every later run for good."""
        now = asyncio.get_running_loop().time()
        last = self._running.get(job.id)
        if last is not None and not last.task.done():
            limit = self.limits[job.id].total_seconds()
            if now - last.started < limit:
                if not last.said:
                    last.said = True
                    log.info("job %s still runs from its last time; this time is skipped", job.id)
                return
            self.overruns += 1
            log.warning(
                "job %s ran for more than %.0f min and was stopped; starting it again",
                job.id,
                limit / 60,
            )
            await _cancelled(last.task)
        task = asyncio.create_task(self._run(job), name=f"steward-job-{job.id}")
        self._running[job.id] = _Run(task, now)

    async def _run(self, job: JobSpec) -> int:
        try:
            return await self.dispatcher.run_job(job)
        except Exception as exc:  # run_job keeps its own failures; this is a last stop
            trouble.said(log, f"job {job.id}", exc)
            return 0

    def start(self) -> None:
        """Hand the jobs to APScheduler's asyncio scheduler."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        for job in self._jobs:
            scheduler.add_job(
                self.fire,
                self._triggers[job.id],
                args=[job],
                id=job.id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=300,
            )
        scheduler.add_job(
            self._recover_logged,
            IntervalTrigger(seconds=RECOVER_EVERY.total_seconds()),
            id="steward.recover",
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop APScheduler without waiting for running jobs."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        running, self._running = self._running, {}
        for run in running.values():
            await _cancelled(run.task)


@dataclass
class _Run:
    """A run of a job started by :meth:`JobService.fire`."""

    task: asyncio.Task[int]
    started: float
    """``loop.time()`` when it started."""
    said: bool = False
    """Whether the log said that a later time was skipped for it."""


async def _cancelled(task: asyncio.Task[int]) -> None:
    """Cancel a job's run and give it a little while to roll back."""
    if task.done():
        return
    task.cancel()
    await asyncio.wait({task}, timeout=30)  # its own end (cancelled) is not an error here;
    # a cancel of the caller (Steward stopping) still reaches the caller
