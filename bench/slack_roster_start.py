"""How long a Slack start takes when Steward lists a big workspace to catch up on joins.

Slack stops redelivering a join after a few tries, so on every connection the adapter lists
the workspace (users.list, 1,000 people a page, Tier 2) and onboarding compares the list with
the one it kept, welcoming who joined while no Steward ran. This starts the real App with
onboarding against the fake Slack seeded with ``--n`` people (5,000 by default), on a fresh
SQLite file and on a fresh PostgreSQL database (``STEWARD_TEST_POSTGRES_URL``'s server; left
out when none answers), and times each start from creating the process's App until Steward is
quiet (connected, listed, caught up, welcomes queued and sent):

- ``nobody new``: a restart with the list already kept (the everyday case);
- ``50 joined while down``: 50 people joined while no Steward ran and Slack gave up on their
  joins; the start welcomes them (a public welcome and a DM each);
- ``first list``: no list kept yet (Steward just installed or upgraded): everyone is written
  to it and nobody is welcomed.

The fake enforces Slack's limits (users.list: Tier 2, 20 calls a minute per workspace; one post
a second per channel), run ``STEWARD_PLATFORM_SPEED`` times faster (50 unless set; Steward paces
to the same speed), so 50 welcomes in one channel do not take 50 s; the table shows the
users.list calls each start made and the 429s the fake answered. The fake checks its traffic
with the fast schema checker (``STEWARD_SANDBOX_VALIDATION=fast``, as the join storm does):
jsonschema alone spends seconds on five pages of 1,000 user objects, the fake's cost, not
Steward's.
The fake runs in this process, so its CPU is in the figures.

``python -m bench.slack_roster_start [--n 5000] [--database sqlite|postgresql]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import drop_pg_database, fresh_pg_database, table

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MISSED = 50
"""People who join while no Steward runs, for the second start."""


@dataclass(frozen=True)
class Start:
    """One timed start."""

    database: str
    members: int
    case: str
    seconds: float
    listed: int  # users.list calls the start made
    refused: int  # of them, answered 429
    welcomed: int  # people welcomed in the channel by the start


async def _starts(database: str, url: str, n: int) -> list[Start]:
    from sqlalchemy import delete, update

    from bot.builtin import Steward
    from cogs.onboarding import Onboarding
    from cogs.onboarding._models import OnboardingConfig, OnboardingRosterEntry
    from sandbox.scenario import open_community, start_steward, stop_steward
    from sandbox.slack import FakeSlack

    features = [Steward(), Onboarding()]
    async with FakeSlack(connect_timeout=0.01) as fake:
        for i in range(n):
            fake.add_user(f"member{i}")
        async with open_community("slack", url, features, fake=fake) as community:
            await community.configure(
                "onboarding", welcome_channel=community.channel_mention("welcome")
            )
            starts = []

            def welcomes() -> int:
                return sum("Welcome to" in m.text for m in community.messages_in("welcome"))

            async def timed(case: str) -> None:
                calls, refused, before = _listing(fake), fake.tier_limit.refused, welcomes()
                started = time.perf_counter()
                app = await start_steward(community, features)
                await community.settle()
                seconds = time.perf_counter() - started
                starts.append(
                    Start(
                        database,
                        n,
                        case,
                        seconds,
                        _listing(fake) - calls,
                        fake.tier_limit.refused - refused,
                        welcomes() - before,
                    )
                )
                await app.stop()

            await stop_steward(community)
            await timed("nobody new")
            for i in range(MISSED):
                await fake.member_joins(f"newcomer{i}")  # nobody connected: Slack gives up
            await timed(f"{MISSED} joined while down")
            async with community.app.db.uow() as uow:
                await uow.session.execute(delete(OnboardingRosterEntry))
                await uow.session.execute(update(OnboardingConfig).values(roster_at=None))
                await uow.commit()
            await timed("first list")
    return starts


def _listing(fake: Any) -> int:
    return sum(1 for c in fake.calls if c.method == "users.list")


async def measure(n: int, databases: tuple[str, ...]) -> list[Start]:
    """The three starts on each database."""
    os.environ.setdefault("STEWARD_PLATFORM_SPEED", "50")
    os.environ.setdefault("STEWARD_SANDBOX_VALIDATION", "fast")
    out: list[Start] = []
    for database in databases:
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'steward.db'}"
                out += await _starts(database, url, n)
            continue
        name = f"bench_roster_{os.getpid()}"
        url_pg = await fresh_pg_database(name)
        if url_pg is None:
            print("no PostgreSQL answered: its starts are left out")
            continue
        try:
            out += await _starts(database, url_pg, n)
        finally:
            await drop_pg_database(name)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the starts' table."""
    parser = argparse.ArgumentParser(prog="python -m bench.slack_roster_start")
    parser.add_argument("--n", type=int, default=5000, help="people in the workspace")
    parser.add_argument("--database", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    databases = (args.database,) if args.database else ("sqlite", "postgresql")
    starts = asyncio.run(measure(args.n, databases))
    print(
        table(
            ("database", "members", "start", "s", "users.list calls", "429s", "welcomed"),
            [
                (
                    s.database,
                    str(s.members),
                    s.case,
                    f"{s.seconds:.2f}",
                    str(s.listed),
                    str(s.refused),
                    str(s.welcomed),
                )
                for s in starts
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
