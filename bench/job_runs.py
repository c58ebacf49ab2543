"""What it costs to run each recurring job once per community whatever the process count, and
why an advisory lock alone is not enough: ``python -m bench.job_runs``.

One job (it writes nothing itself) fires for one slot in ``N`` communities. Variants, on SQLite
and PostgreSQL:

- none: today's single process without any claim (the baseline);
- job_runs: the claim Steward makes, a ``job_runs`` row inserted in the job's own transaction
  and marked finished before it commits;
- advisory: ``pg_try_advisory_xact_lock`` keyed by job, community and slot (PostgreSQL only);
- ``×3 at once`` / ``×3 one after another``: three processes (Apps with their own pools) fire
  the same slot concurrently, or each a moment after the previous one finished (as interval jobs
  do: every process fires at its own moment in the slot).

Printed: runs made in the worst try (the goal is ``N`` whatever the process count), the best
try's milliseconds per community (all processes' wall time for the slot over ``N``), and the
ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench._common import fresh_pg_database
from bot.app import App
from bot.builtin import Steward
from bot.config import Config
from bot.core import Feature, FeatureSettings, JobContext, job
from bot.core.clock import FakeClock
from bot.core.communities import ensure_community
from bot.core.ids import CommunityRef
from bot.core.jobruns import JobRuns
from bot.db import schema

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Tally(Feature, name="tally"):
    """Counts its runs."""

    runs = 0

    @job(every=timedelta(hours=1))
    async def count(self, ctx: JobContext[FeatureSettings]) -> None:
        """One more run."""
        Tally.runs += 1


class NoClaim(JobRuns):
    """No coordination: every process runs every slot."""

    async def claim(self, *_args: Any) -> bool:
        return True

    async def finish(self, *_args: Any) -> None:
        return None


class Advisory(JobRuns):
    """Only an advisory lock held for the job's transaction."""

    async def claim(
        self, session: AsyncSession, job: str, community: str, slot: datetime, now: datetime
    ) -> bool:
        key = f"{job}|{community}|{slot.isoformat()}"
        got = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key}
        )
        return bool(got)

    async def finish(self, *_args: Any) -> None:
        return None


class Port:
    """Enough of a platform for a job that sends nothing."""

    platform = "discord"

    def for_feature(self, _feature: str) -> Port:
        return self


def app_for(url: str, runs: type[JobRuns]) -> App:
    config = Config(_env_file=None, database_url=url, features=[])  # type: ignore[call-arg]
    app = App(config, clock=FakeClock(START + timedelta(hours=1)), features=[Steward(), Tally()])
    app.dispatcher.add_port(Port())  # type: ignore[arg-type]
    app.dispatcher.job_runs = runs()
    return app


async def fire(
    url: str, runs: type[JobRuns], processes: int, together: bool, n: int
) -> tuple[int, float]:
    apps = [app_for(url, runs) for _ in range(processes)]
    for app in apps:
        await app.start(background=False)
    [spec] = [j for j in apps[0].registry.jobs() if j.feature == "tally"]
    Tally.runs = 0
    began = time.perf_counter()
    if together:
        await asyncio.gather(*(a.dispatcher.run_job(spec) for a in apps))
    else:
        for app in apps:
            await app.dispatcher.run_job(spec)
    elapsed = time.perf_counter() - began
    for app in apps:
        await app.stop()
    return Tally.runs, elapsed * 1000 / n


async def prepare(url: str, n: int) -> None:
    await asyncio.to_thread(schema.upgrade_sync, url)
    app = app_for(url, JobRuns)
    async with app.db.uow() as uow:
        for k in range(n):
            await ensure_community(uow.session, CommunityRef("discord", str(1000 + k)), START)
        await uow.commit()
    await app.db.dispose()


async def measure(n: int, repeat: int) -> list[tuple[str, str, int, float]]:
    rows: list[tuple[str, str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        pg = await fresh_pg_database("steward_bench_job_runs")
        if pg is not None:
            targets.append(("postgres", pg))
        for name, url in targets:
            await prepare(url, n)
            variants: list[tuple[str, type[JobRuns], int, bool]] = [
                ("none", NoClaim, 1, True),
                ("job_runs", JobRuns, 1, True),
                ("none ×3 at once", NoClaim, 3, True),
                ("job_runs ×3 at once", JobRuns, 3, True),
                ("job_runs ×3 one after another", JobRuns, 3, False),
            ]
            if name == "postgres":
                variants += [
                    ("advisory", Advisory, 1, True),
                    ("advisory ×3 at once", Advisory, 3, True),
                    ("advisory ×3 one after another", Advisory, 3, False),
                ]
            for variant, runs, processes, together in variants:
                tries = []
                for _ in range(repeat):
                    # Each try fires the same slot afresh: forget what the last one claimed.
                    app = app_for(url, JobRuns)
                    async with app.db.uow() as uow:
                        await uow.session.execute(text("DELETE FROM job_runs"))
                        await uow.commit()
                    await app.db.dispose()
                    tries.append(await fire(url, runs, processes, together, n))
                made = max(t[0] for t in tries)  # the worst try: duplicates must never happen
                rows.append((name, variant, made, min(t[1] for t in tries)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="tries per variant (best time)")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.communities, args.repeat))
    base = {db: per for db, variant, _, per in rows if variant == "none"}
    print(f"{'database':9} {'variant':32} {'runs':>5} {'ms/community':>13} {'ratio':>6}")
    for db, variant, made, per in rows:
        print(f"{db:9} {variant:32} {made:5d} {per:13.3f} {per / base[db]:6.2f}")
    print(f"goal: {args.communities} runs in every variant but 'none ×3'")


if __name__ == "__main__":
    main()
