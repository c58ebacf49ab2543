"""Each recurring job runs once per community and slot, however many processes fire it.

Every process schedules every job (APScheduler, in its own memory). Before a job runs in a
community, its transaction inserts the ``job_runs`` row keyed by (job, community, slot); a
process that finds the row already there skips. On PostgreSQL a second process inserting the
same key waits for the first one's transaction: if that one commits, the second skips; if it
rolls back (its process was killed), the second runs the job instead. A run that committed part
of its work and then lost its process stays unfinished: once its lease has passed, another
process takes it over (:meth:`JobRuns.stale`, then :meth:`JobRuns.claim`).

An advisory lock (``pg_try_advisory_xact_lock``) was the other way: it keeps two processes from
running a slot *at the same time*, but not one after the other (an interval job fires at each
process's own moment), so it needs a durable mark anyway, and it exists on PostgreSQL only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.feature import JobSpec
from bot.core.ids import claimer_name
from bot.db.inserts import insert_ignore
from bot.db.models import JobRun

JOB_LEASE = timedelta(minutes=15)
"""How long a run may take before another process takes over a run left unfinished."""
CRON_LOOKBACK = timedelta(minutes=10)
"""How far back a fired cron job looks for the slot it fires for (APScheduler's misfire grace
is 5 minutes)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

KEPT = timedelta(days=2)
"""How long finished runs are kept (a slot is never fired again after its cron look-back)."""


def slot_of(job: JobSpec, at: datetime) -> datetime:
    """The slot a job firing at ``at`` runs for: the same in every process.

    An interval job's slots are the multiples of its interval since the epoch (each process's
    APScheduler fires it at its own moment in the slot); a cron job's slot is its latest fire
    time at or before ``at``.
    """
    if job.every is not None:
        every = job.every.total_seconds()
        elapsed = (at - EPOCH).total_seconds()
        return EPOCH + timedelta(seconds=(elapsed // every) * every)
    assert job.cron is not None
    trigger = CronTrigger.from_crontab(job.cron, timezone=UTC)
    slot: datetime | None = None
    fire: datetime | None = trigger.get_next_fire_time(None, at - CRON_LOOKBACK)
    while fire is not None and fire <= at:
        slot = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return slot or at.replace(second=0, microsecond=0)


class JobRuns:
    """Claims and marks job runs in the job's own transaction."""

    def __init__(self, owner: str | None = None, lease: timedelta = JOB_LEASE) -> None:
        self.owner = owner or claimer_name()
        self.lease = lease

    async def claim(
        self, session: AsyncSession, job: str, community: str, slot: datetime, now: datetime
    ) -> bool:
        """Take the run of ``job`` in ``community`` for ``slot``; False when another process
        has it (or it ran). A run left unfinished past its lease is taken over."""
        values = {
            "job_id": job,
            "community_id": community,
            "slot": slot,
            "claimed_by": self.owner,
            "claimed_at": now,
            "lease_until": now + self.lease,
        }
        if await insert_ignore(session, JobRun, values):
            return True
        taken = await session.execute(
            update(JobRun)
            .where(
                JobRun.job_id == job,
                JobRun.community_id == community,
                JobRun.slot == slot,
                JobRun.finished_at.is_(None),
                JobRun.lease_until < now,
            )
            .values(claimed_by=self.owner, claimed_at=now, lease_until=now + self.lease)
        )
        return bool(getattr(taken, "rowcount", 0))

    async def finish(
        self,
        session: AsyncSession,
        job: str,
        community: str,
        slot: datetime,
        now: datetime,
        outcome: str,
    ) -> None:
        """Mark the run done (in the transaction that commits its work), or failed: a failed
        run is not run again by another process in the same slot."""
        values = {"finished_at": now, "outcome": outcome[:200]}
        done = await session.execute(
            update(JobRun)
            .where(
                JobRun.job_id == job,
                JobRun.community_id == community,
                JobRun.slot == slot,
                JobRun.claimed_by == self.owner,
                JobRun.finished_at.is_(None),
            )
            .values(values)
        )
        if not getattr(done, "rowcount", 0):  # a failed run's claim was rolled back with it
            row = {
                "job_id": job,
                "community_id": community,
                "slot": slot,
                "claimed_by": self.owner,
                "claimed_at": now,
                "lease_until": now,
            }
            await insert_ignore(session, JobRun, row | values)

    async def stale(self, session: AsyncSession, now: datetime) -> list[tuple[str, str, datetime]]:
        """Runs left unfinished past their lease, with no later run of the same job in the same
        community (that one made up for it): (job, community, slot)."""
        later = aliased(JobRun)
        newer = (
            select(later.slot)
            .where(
                later.job_id == JobRun.job_id,
                later.community_id == JobRun.community_id,
                later.slot > JobRun.slot,
            )
            .exists()
        )
        rows = await session.execute(
            select(JobRun.job_id, JobRun.community_id, JobRun.slot)
            .where(and_(JobRun.finished_at.is_(None), JobRun.lease_until < now), ~newer)
            .order_by(JobRun.slot)
        )
        return [(job, community, slot) for job, community, slot in rows]

    async def prune(self, session: AsyncSession, now: datetime) -> None:
        """Forget finished runs older than :data:`KEPT`."""
        await session.execute(
            delete(JobRun).where(JobRun.finished_at.is_not(None), JobRun.slot < now - KEPT)
        )
