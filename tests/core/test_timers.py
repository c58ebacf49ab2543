"""Durable one-off timers and recurring jobs, moved by a fake clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.builtin import Steward
from bot.core import Feature, JobContext, timer
from tests.core.garden import Garden
from tests.core.harness import Harness


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
