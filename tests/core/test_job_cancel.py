"""A job run stopped for running past its limit: its cancel is its own, a caller's is the caller's.

``JobService.fire`` cancels a run past its limit and waits (a little) for it to roll back
(``bot.core.scheduler._cancelled``). The run's own end, cancelled, is not the caller's error:
the next run starts. A cancel of the caller while it waits (Steward stopping) still reaches the
caller: it must not be swallowed, or a stop would hang on a run that never ends.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.builtin import Steward
from tests.conftest import until
from tests.core.garden import Garden
from tests.core.harness import Harness


class SlowRollback:
    """The platform never answers the job's post; cancelled, the run takes a while to roll
    back (until ``release``)."""

    def __init__(self, garden: Harness) -> None:
        self.garden = garden
        self.send = garden.port.send
        self.stuck = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.garden.port.send = self.send  # type: ignore[method-assign]
        self.stuck.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            await self.release.wait()
            raise


async def _stuck_run(garden: Harness) -> tuple[Any, SlowRollback]:
    """The hourly job's run, stuck and past its limit."""
    await garden.run(garden.member("alice"), "garden plant", seed="rose")
    [hourly] = [j for j in garden.app.registry.jobs() if j.id == "garden.hourly"]
    slow = SlowRollback(garden)
    garden.port.send = slow  # type: ignore[method-assign]
    garden.clock.advance(timedelta(hours=1))
    await garden.app.jobs.fire(hourly)
    await asyncio.wait_for(slow.stuck.wait(), 10)
    garden.app.jobs.limits[hourly.id] = timedelta(0)  # it has outlived its limit
    return hourly, slow


async def test_a_callers_cancel_while_a_run_rolls_back_reaches_the_caller(
    database_url: str,
) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        hourly, slow = await _stuck_run(garden)
        jobs = garden.app.jobs
        firing = asyncio.create_task(jobs.fire(hourly))
        await asyncio.wait_for(slow.cancelled.wait(), 10)  # the run rolls back; fire waits
        firing.cancel()  # Steward stops meanwhile
        try:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(firing, 10)
            assert firing.cancelled()
        finally:
            slow.release.set()
            await jobs.stop()


async def test_a_runs_own_cancel_is_not_the_callers(database_url: str) -> None:
    async with Harness(database_url, [Steward(), Garden()]) as garden:
        hourly, slow = await _stuck_run(garden)
        jobs = garden.app.jobs
        firing = asyncio.create_task(jobs.fire(hourly))
        await asyncio.wait_for(slow.cancelled.wait(), 10)
        slow.release.set()  # rolled back: the stopped run ends, cancelled
        try:
            assert await asyncio.wait_for(firing, 10) is None  # not the caller's cancel
            await until(lambda: garden.port.sent, "the new run's report")
            await garden.app.dispatcher.activity.wait_idle()
            assert [s.message.text for s in garden.port.sent] == ["hourly report"]
            assert jobs.overruns == 1
        finally:
            await jobs.stop()
