"""Durable one-off timers and recurring jobs, moved by a fake clock."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.builtin import Steward
from bot.core import Feature, JobContext, timer
from bot.db.models import JobRun, Timer
from tests.conftest import until
from tests.core.garden import Garden
from tests.core.harness import Harness
from tests.core.test_database_away import through_outage


def watered(harness: Harness) -> list[str]:
    return [s.message.text for s in harness.port.sent if s.message.text.startswith("watered")]


async def test_timer_runs_once_when_due(database_url: str) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        alice = garden.member("alice")
        [ok] = await garden.run(alice, "garden water", after=timedelta(hours=2))
        assert ok.text == "I'll water it."
        await garden.advance(timedelta(hours=1))
        assert watered(garden) == []
        await garden.advance(timedelta(hours=1, seconds=1))
        assert watered(garden) == ["watered for u-alice"]
        await garden.advance(timedelta(days=1))
        assert watered(garden) == ["watered for u-alice"]


async def test_rescheduling_the_same_key_replaces_the_timer(database_url: str) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        alice = garden.member("alice")
        await garden.run(alice, "garden water", after=timedelta(hours=1))
        await garden.run(alice, "garden water", after=timedelta(hours=3))
        await garden.advance(timedelta(hours=2))
        assert watered(garden) == []
        await garden.advance(timedelta(hours=2))
        assert watered(garden) == ["watered for u-alice"]


async def test_timer_scheduled_in_a_transaction_that_rolls_back_never_runs(
    database_url: str,
) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        [refused] = await garden.run(
            garden.member("alice"), "garden water", after=timedelta(minutes=5), fail=True
        )
        assert refused.text == "The can is empty; nothing was scheduled."
        await garden.advance(timedelta(days=30))
        assert watered(garden) == []


async def test_timers_survive_a_restart_and_a_past_due_one_runs_exactly_once(
    database_url: str,
) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as first:
        await first.run(first.member("alice"), "garden water", after=timedelta(minutes=30))
        start = first.clock.now()
    # The process was down for a day; a new one starts on the same database.
    second = Harness(database_url, [Steward(), Garden()])
    second.clock.advance(second.clock.now() - start + timedelta(days=1))
    async with second:
        await second.app.timers.run_due()
        await second.app.timers.run_due()
        assert watered(second) == ["watered for u-alice"]
    third = Harness(database_url, [Steward(), Garden()])
    third.clock.advance(timedelta(days=2))
    async with third:
        await third.app.timers.run_due()
        assert watered(third) == []


class Flaky(Feature, name="flaky"):
    """A feature whose timer fails the first time."""

    def __init__(self) -> None:
        self.calls = 0

    @timer("tick")
    async def tick(self, ctx: JobContext[Any], payload: dict[str, Any]) -> None:
        """Fail once, then work."""
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("transient")


async def test_a_failing_timer_is_retried_later_not_lost(database_url: str) -> None:
    flaky = Flaky()
    async with Harness(database_url, [Steward(), flaky]) as harness:
        async with harness.app.db.uow() as uow:
            from bot.core.communities import ensure_community
            from bot.core.timers import Timers

            await ensure_community(uow.session, harness.community, harness.clock.now())
            timers = Timers(uow, harness.community, "flaky", harness.clock, lambda _at: None)
            await timers.schedule("tick", at=harness.clock.now(), key="k")
            await uow.commit()
        await harness.app.timers.run_due()
        assert flaky.calls == 1
        await harness.app.timers.run_due()
        assert flaky.calls == 1  # backing off, not hammering
        await harness.advance(timedelta(minutes=5))
        assert flaky.calls == 2
        await harness.advance(timedelta(days=1))
        assert flaky.calls == 2


async def test_recurring_job_runs_per_community_on_schedule(database_url: str) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        await garden.run(garden.member("alice"), "garden plant", seed="rose")
        await garden.advance(timedelta(minutes=59))
        assert [s.message.text for s in garden.port.sent] == []
        await garden.advance(timedelta(minutes=1))
        assert [s.message.text for s in garden.port.sent] == ["hourly report"]
        await garden.advance(timedelta(hours=5))  # missed runs coalesce into one
        assert [s.message.text for s in garden.port.sent] == ["hourly report"] * 2


async def test_a_timer_and_a_job_due_during_a_database_outage_run_once_after_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They wait for the database as listeners do (``bot.core.outage``), instead of failing,
    backing off for minutes and perhaps giving up; once it answers they run, each once."""
    monkeypatch.setattr("bot.db.engine.SQLITE_BUSY_TIMEOUT_MS", 50)  # fail fast, not in 30 s
    async with (
        through_outage(database_url) as (url, outage),
        Harness(url, [Steward(), Garden()]) as garden,
    ):
        gate = garden.app.dispatcher.database
        garden.app.dispatcher.retry_delays = (0.05,)  # the gate's probes, scaled down
        await garden.run(garden.member("alice"), "garden water", after=timedelta(minutes=30))
        await garden.run(garden.member("alice"), "garden plant", seed="rose")
        await outage.away()
        try:
            garden.clock.advance(timedelta(hours=1))  # both came due during the outage
            timers = asyncio.create_task(garden.app.timers.run_due())
            jobs = asyncio.create_task(garden.app.jobs.run_due())
            while not gate.away:  # the first probe has found the database away
                assert not timers.done() and not jobs.done()
                await asyncio.sleep(0.01)
            assert not timers.done() and not jobs.done()  # waiting, not failed
            assert [s.message.text for s in garden.port.sent] == []
        finally:
            await outage.back()
        assert await asyncio.wait_for(timers, 30) == 1
        assert await asyncio.wait_for(jobs, 30) == 1
        sent = sorted(s.message.text for s in garden.port.sent)
        assert sent == ["hourly report", "watered for u-alice"]
        await garden.advance(timedelta(minutes=59))
        assert sorted(s.message.text for s in garden.port.sent) == sent  # each ran once


class _Overloaded(Exception):
    """A platform's 503, as discord.py and slack_sdk carry it (``status``)."""

    status = 503


def _busy() -> Exception:
    return sqlite3.OperationalError("database is locked")


def _overloaded() -> Exception:
    return _Overloaded("503 Service Unavailable")


async def _outcomes(garden: Harness) -> tuple[list[tuple[str | None, int]], list[str | None]]:
    async with garden.app.db.uow() as uow:
        timers = (
            await uow.session.execute(select(Timer.outcome, Timer.attempts).order_by(Timer.id))
        ).all()
        runs = list(await uow.session.scalars(select(JobRun.outcome)))
    return [(o, a) for o, a in timers], runs


@pytest.mark.parametrize("passing", [_busy, _overloaded], ids=["database-busy", "platform-503"])
async def test_a_timer_and_a_job_meeting_passing_trouble_are_tried_again_not_failed(
    database_url: str, passing: Callable[[], Exception]
) -> None:
    """The database busy a moment past its busy timeout (another run holding the write lock),
    or a platform's 5xx: the try is rolled back and made again after a pause, as a listener's
    would be, instead of being recorded as failed and put off for minutes. The tries are
    bounded: trouble that does not pass is recorded once they are spent."""
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        garden.app.dispatcher.retry_delays = (0.01, 0.01)
        await garden.run(garden.member("alice"), "garden water", after=timedelta(minutes=30))
        await garden.run(garden.member("alice"), "garden plant", seed="rose")
        send, tried = garden.port.send, Counter[str]()
        failing = {"watered for u-alice": 1, "hourly report": 1}

        async def flaky(channel: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
            tried[message.text] += 1
            if tried[message.text] <= failing.get(message.text, 0):
                raise passing()
            return await send(channel, message, *args, **kwargs)

        garden.port.send = flaky  # type: ignore[method-assign]
        garden.clock.advance(timedelta(hours=1))
        assert await garden.app.timers.run_due() == 1
        assert await garden.app.jobs.run_due() == 1
        sent = sorted(s.message.text for s in garden.port.sent)
        assert sent == ["hourly report", "watered for u-alice"]
        assert tried == {"watered for u-alice": 2, "hourly report": 2}
        assert await _outcomes(garden) == ([("ok", 1)], ["ok"])

        # Trouble that lasts: three tries (the budget), then recorded, as before.
        await garden.run(garden.member("alice"), "garden water", after=timedelta(minutes=30))
        failing["watered for u-alice"] = 10**6
        tried.clear()
        garden.clock.advance(timedelta(hours=1))
        assert await garden.app.timers.run_due() == 0
        assert tried["watered for u-alice"] == 3
        timers, _ = await _outcomes(garden)
        assert [(o.split()[0] if o else o, a) for o, a in timers] == [("ok", 1), ("error", 1)]


async def test_a_timer_that_never_ends_is_stopped_and_the_other_timers_run(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One loop runs every timer (and the outbox's retries): a timer whose try never ends (a
    call with no answer) is stopped at its limit, its transaction rolled back and the try
    recorded as failed, so the timers behind it run and it is tried again later."""
    monkeypatch.setattr("bot.core.dispatch.TIMER_LIMIT", 0.5)
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        await garden.run(garden.member("alice"), "garden water", after=timedelta(minutes=30))
        await garden.run(garden.member("bob"), "garden water", after=timedelta(minutes=31))
        send, hung = garden.port.send, []

        async def never_answers_alice(channel: Any, message: Any, *a: Any, **k: Any) -> Any:
            if message.text == "watered for u-alice":
                hung.append(message.text)
                await asyncio.Event().wait()
            return await send(channel, message, *a, **k)

        garden.port.send = never_answers_alice  # type: ignore[method-assign]
        garden.clock.advance(timedelta(hours=1))
        assert await asyncio.wait_for(garden.app.timers.run_due(), 30) == 1
        assert watered(garden) == ["watered for u-bob"]
        timers, _ = await _outcomes(garden)
        [(alice_outcome, attempts), bob] = timers
        assert alice_outcome is not None and alice_outcome.startswith("error ")
        assert (attempts, bob) == (1, ("ok", 1))
        assert len(hung) == 1  # stopped, not tried again at once (it would hang again)

        garden.port.send = send  # type: ignore[method-assign]
        await garden.advance(timedelta(minutes=2))  # tried again after its back-off
        assert watered(garden) == ["watered for u-bob", "watered for u-alice"]


async def test_a_job_run_that_never_ends_is_stopped_and_the_job_runs_again(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Under APScheduler, a run still going at the job's next time makes that time skipped;
    past its limit it is stopped (its transaction rolled back) and the job starts again, so one
    run that never ends (a database call with no answer) does not hold off every later one."""
    caplog.set_level(logging.INFO, "steward.scheduler")
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        await garden.run(garden.member("alice"), "garden plant", seed="rose")
        jobs = garden.app.jobs
        [hourly] = [j for j in garden.app.registry.jobs() if j.id == "garden.hourly"]
        assert jobs.limits[hourly.id] == timedelta(hours=1)  # five hours, but an hour at most
        send, stuck = garden.port.send, asyncio.Event()

        async def never_answers(*args: Any, **kwargs: Any) -> Any:
            garden.port.send = send  # type: ignore[method-assign]
            stuck.set()
            await asyncio.Event().wait()

        garden.port.send = never_answers  # type: ignore[method-assign]
        garden.clock.advance(timedelta(hours=1))
        await jobs.fire(hourly)
        await asyncio.wait_for(stuck.wait(), 10)
        await jobs.fire(hourly)  # still running, within its limit: skipped
        await jobs.fire(hourly)
        assert [s.message.text for s in garden.port.sent] == []
        skipped = [r for r in caplog.records if "this time is skipped" in r.getMessage()]
        assert len(skipped) == 1  # said once for the run

        jobs.limits[hourly.id] = timedelta(0)  # the stuck run has outlived its limit
        caplog.clear()
        await jobs.fire(hourly)
        [said] = [r for r in caplog.records if r.name == "steward.scheduler"]
        assert said.levelname == "WARNING" and not said.exc_info
        assert said.getMessage() == (
            "job garden.hourly ran for more than 0 min and was stopped; starting it again"
        )
        await until(lambda: garden.port.sent, "the new run's report (the stuck one never made it)")
        await garden.app.dispatcher.activity.wait_idle()
        assert [s.message.text for s in garden.port.sent] == ["hourly report"]
        assert jobs.overruns == 1
        await jobs.stop()
