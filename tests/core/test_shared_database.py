"""Several Steward processes on one database: each timer, delivery, job run and feed poll
happens once, a killed process's claims come back, and settings changes reach every process.

Each "process" is an App of its own (its own engine, connection pool, scheduler, caches) on the
same database, in this test's event loop; they interleave at every database wait, as separate
processes do. The claims are rows and row locks in the database, so they work the same across
real processes (s8-07's kill test runs three). On SQLite, where Steward serves one process, the
same claims still hold (its one writer serialises them); what only PostgreSQL can do (skipping
locked rows, LISTEN/NOTIFY) is tested on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.builtin import Steward
from bot.core import Feature, JobContext, Level, Message, job, timer
from bot.core.communities import ensure_community
from bot.core.ids import ChannelRef
from bot.core.jobruns import JOB_LEASE
from bot.core.outbox import Outbox
from bot.core.scheduler import JobService
from bot.core.timers import Timers
from bot.db.listen import asyncpg_dsn
from bot.db.problems import DatabaseProblem
from bot.db.solo import one_process
from cogs.announcements._models import AnnouncementFeed
from cogs.announcements._repo import Repo
from tests.core.garden import Garden
from tests.core.harness import Harness


def on_postgres(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("SQLite serves one process: no other process to hear from or to skip past")


@asynccontextmanager
async def processes(
    url: str, count: int, features: Any = None, **settings: Any
) -> AsyncIterator[list[Harness]]:
    """``count`` Steward processes on one database, their clocks at the same time."""
    async with AsyncExitStack() as stack:
        running = []
        for _ in range(count):
            chosen = features() if features is not None else [Steward(), Garden()]
            running.append(await stack.enter_async_context(Harness(url, chosen, **settings)))
        yield running


def advance(running: Sequence[Harness], delta: timedelta) -> None:
    for harness in running:
        harness.clock.advance(delta)


def posted(running: Sequence[Harness]) -> Counter[str]:
    return Counter(s.message.text for h in running for s in h.port.sent)


async def test_each_due_timer_runs_once_whatever_the_process_count(database_url: str) -> None:
    async with processes(database_url, 3) as running:
        first = running[0]
        members = [first.member(f"m{n}") for n in range(12)]
        for member in members:
            await first.run(member, "garden water", after=timedelta(minutes=30))
        advance(running, timedelta(hours=1))
        await asyncio.gather(*(h.app.timers.run_due() for h in running))
        await asyncio.gather(*(h.app.timers.run_due() for h in running))
        assert posted(running) == Counter(f"watered for u-m{n}" for n in range(12))


class Sundial(Feature, name="sundial"):
    """A timer whose handler may hang (its process is killed there)."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.hanging = asyncio.Event()
        self.rang = 0

    @timer("noon")
    async def noon(self, ctx: JobContext[Any], payload: dict[str, Any]) -> None:
        """Ring, unless this process is the one that hangs."""
        if self.hang:
            self.hanging.set()
            await asyncio.Event().wait()  # until the process dies
        self.rang += 1


async def test_a_timer_being_run_is_skipped_not_waited_for_and_comes_back_if_its_process_dies(
    database_url: str,
) -> None:
    on_postgres(database_url)  # SQLite has one writer: the second process waits for the first
    stuck, other = Sundial(hang=True), Sundial(hang=False)
    async with (
        Harness(database_url, [Steward(), stuck]) as first,
        Harness(database_url, [Steward(), other]) as second,
    ):
        async with first.app.db.uow() as uow:
            await ensure_community(uow.session, first.community, first.clock.now())
            timers = Timers(uow, first.community, "sundial", first.clock, lambda _at: None)
            await timers.schedule("noon", at=first.clock.now(), key="noon")
            await uow.commit()
        doomed = asyncio.create_task(first.app.timers.run_due())
        await stuck.hanging.wait()
        # The row is locked by the first process: the second skips it at once.
        assert await asyncio.wait_for(second.app.timers.run_due(), 30) == 0
        assert other.rang == 0
        doomed.cancel()  # the first process dies: its transaction ends, the timer is free
        await asyncio.gather(doomed, return_exceptions=True)
        assert await second.app.timers.run_due() == 1
        assert await second.app.timers.run_due() == 0
        assert other.rang == 1


async def test_each_delivery_goes_out_once_and_in_order_whatever_the_process_count(
    database_url: str,
) -> None:
    async with processes(database_url, 3) as running:
        first = running[0]
        async with first.app.db.uow() as uow:
            await ensure_community(uow.session, first.community, first.clock.now())
            # Queued with no sender of its own: every process finds the rows due at once.
            outbox = Outbox(uow, first.community, "garden", first.clock, None)
            for lane in ("a", "b", "c"):
                for n in range(8):
                    channel = ChannelRef(first.community, lane)
                    await outbox.deliver(channel, Message(text=f"{lane}{n}"), key=f"{lane}{n}")
            await uow.commit()
        await asyncio.gather(*(h.app.dispatcher.deliverer.run_due() for h in running))
        for harness in running:
            await harness.app.dispatcher.activity.wait_idle()
        assert posted(running) == Counter(f"{lane}{n}" for lane in "abc" for n in range(8))
        for lane in "abc":
            # A lane's rows keep their order even when several processes drain it.
            for harness in running:
                sent = [
                    int(s.message.text[1:]) for s in harness.port.sent if s.message.text[0] == lane
                ]
                assert sent == sorted(sent)


async def test_a_recurring_job_runs_once_per_community_whatever_the_process_count(
    database_url: str,
) -> None:
    async with processes(database_url, 3) as running:
        await running[0].run(running[0].member("ada"), "garden plant", seed="rose")
        for _hour in range(3):
            advance(running, timedelta(hours=1))
            await asyncio.gather(*(h.app.jobs.run_due() for h in running))
        assert posted(running) == Counter({"hourly report": 3})


async def test_processes_started_at_different_moments_share_an_interval_jobs_slots(
    database_url: str,
) -> None:
    """An interval job fires at each process's own moment; the slot is the same for all."""
    early = Harness(database_url, [Steward(), Garden()])
    late = Harness(database_url, [Steward(), Garden()])
    late.clock.advance(timedelta(minutes=25))  # started 25 minutes after the first one
    late.app.jobs = JobService(late.app.dispatcher, late.clock)
    async with early, late:
        await early.run(early.member("ada"), "garden plant", seed="rose")
        for _hour in range(2):
            advance([early, late], timedelta(hours=1))
            await early.app.jobs.run_due()
            await late.app.jobs.run_due()
        assert posted([early, late]) == Counter({"hourly report": 2})


class Ledger(Feature, name="ledger"):
    """A job that commits part of its work, then may hang (its process is killed there)."""

    def __init__(self) -> None:
        self.hang = asyncio.Event()
        self.hanging = asyncio.Event()
        self.finished = 0

    @job(every=timedelta(hours=1))
    async def close_books(self, ctx: JobContext[Any]) -> None:
        """Commit a first part, then finish."""
        await ctx.commit()
        if not self.hang.is_set():
            self.hanging.set()
            await asyncio.Event().wait()  # until the process dies
        self.finished += 1


async def test_a_run_a_killed_process_left_unfinished_is_taken_over_after_its_lease(
    database_url: str,
) -> None:
    killed, survivor = Ledger(), Ledger()
    killed.hang.clear()
    survivor.hang.set()
    first = Harness(database_url, [Steward(), killed])
    second = Harness(database_url, [Steward(), survivor])
    async with first, second:
        async with first.app.db.uow() as uow:
            await ensure_community(uow.session, first.community, first.clock.now())
            await uow.commit()
        advance([first, second], timedelta(hours=1))
        doomed = asyncio.create_task(first.app.jobs.run_due())
        await killed.hanging.wait()
        doomed.cancel()  # the process dies mid-run: what it committed stays
        await asyncio.gather(doomed, return_exceptions=True)
        await second.app.jobs.run_due()
        assert survivor.finished == 0  # the slot is claimed, its lease still runs
        second.clock.advance(JOB_LEASE - timedelta(minutes=1))
        await second.app.jobs.run_due()
        assert survivor.finished == 0
        second.clock.advance(timedelta(minutes=2))
        await second.app.jobs.recover()
        assert survivor.finished == 1
        await second.app.jobs.recover()
        assert survivor.finished == 1


async def _feed(harness: Harness, url: str) -> None:
    async with harness.app.db.uow() as uow:
        await ensure_community(uow.session, harness.community, harness.clock.now())
        uow.session.add(
            AnnouncementFeed(
                community_id=harness.community.key,
                url=url,
                added_by="u-ada",
                added_at=harness.clock.now(),
                next_poll_at=harness.clock.now(),
            )
        )
        await uow.commit()


async def test_a_due_feed_is_claimed_by_one_process_per_cycle(database_url: str) -> None:
    on_postgres(database_url)  # SQLite's one writer serialises the claims: nothing to skip
    async with processes(database_url, 2) as (first, second):
        for n in range(4):
            await _feed(first, f"https://example.org/{n}.xml")
        now = first.clock.now()
        lease = timedelta(minutes=5)
        async with first.app.db.uow() as one, second.app.db.uow() as other:
            mine = await Repo(one.session, first.community).due(now, 2, lease)
            # The first claim is not committed yet: the second process skips past its rows.
            theirs = await Repo(other.session, second.community).due(now, 10, lease)
            await one.commit()
            await other.commit()
        assert len(mine) == 2
        assert len(theirs) == 2
        assert {r.url for r in mine}.isdisjoint(r.url for r in theirs)
        async with second.app.db.uow() as uow:
            assert await Repo(uow.session, second.community).due(now, 10, lease) == []
        # Neither process got to poll (both were killed): the feeds come back after the lease.
        async with second.app.db.uow() as uow:
            late = now + lease + timedelta(seconds=1)
            again = await Repo(uow.session, second.community).due(late, 10, lease)
        assert len(again) == 4


async def test_a_settings_change_reaches_another_process_at_once(database_url: str) -> None:
    on_postgres(database_url)  # SQLite serves one process: its own writes drop its cache
    async with processes(database_url, 2) as (first, second):
        first.app.settings_cache.ttl = second.app.settings_cache.ttl = 3600.0  # no expiry help
        listener = second.app.settings_listener
        assert listener is not None
        await listener.wait(connects=1)
        ada = first.member("ada", Level.ADMIN)
        [before] = await second.run(second.member("bo"), "garden plant", seed="rose")
        assert before.text == "Welcome to the garden: planted rose"
        heard = listener.heard
        await first.run(ada, "steward settings set", feature="garden", key="greeting", value="Hi")
        await asyncio.wait_for(listener.wait(heard=heard + 1), 30)
        [after] = await second.run(second.member("bo"), "garden plant", seed="rose")
        assert after.text == "Hi: planted rose"


async def test_settings_are_heard_again_after_the_listening_connection_drops(
    database_url: str,
) -> None:
    on_postgres(database_url)
    async with processes(database_url, 2) as (first, second):
        second.app.settings_cache.ttl = 3600.0
        listener = second.app.settings_listener
        assert listener is not None
        await listener.wait(connects=1)
        [_] = await second.run(second.member("bo"), "garden plant", seed="rose")
        admin = await asyncpg.connect(asyncpg_dsn(second.app.db.url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", listener.pid)
        finally:
            await admin.close()
        await asyncio.wait_for(listener.wait(connects=2), 30)
        heard = listener.heard
        ada = first.member("ada", Level.ADMIN)
        await first.run(ada, "steward settings set", feature="garden", key="greeting", value="Yo")
        await asyncio.wait_for(listener.wait(heard=heard + 1), 30)
        [after] = await second.run(second.member("bo"), "garden plant", seed="rose")
        assert after.text == "Yo: planted rose"


def test_a_second_steward_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    """``steward run`` holds its SQLite file's lock: another process is told to use PostgreSQL;
    once the holder is gone (however it ended) the file is free again."""
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(DatabaseProblem) as refused, one_process(url):
            pass
        assert str(refused.value) == (
            "another Steward process is running on the SQLite file steward.db. SQLite serves"
            " one Steward process; to run several, give them one PostgreSQL database (README:"
            " Outgrowing one process)."
        )
    finally:
        holder.kill()  # no cleanup: the system drops the lock with the process
        holder.wait()
    with one_process(url):
        pass


HOLD = """
import sys
from bot.db.solo import one_process
with one_process(sys.argv[1]):
    print("holding", flush=True)
    sys.stdin.read()
"""
