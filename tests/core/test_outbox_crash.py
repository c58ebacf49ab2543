"""A crash between the platform taking a message and Steward recording it posts nothing twice.

Steward runs as a real process (``python -m bot run``) against the fake platform in this test's
process. The fake takes the newcomer's welcome DM, then, before it answers, the test kills the
Steward process (SIGKILL: no cleanup, no exception handler). A new Steward process on the same
database finds the delivery pending, attempted, and sends it again: Discord answers the same
nonce with the message it already has, Slack's recent messages already carry the delivery's key.
The newcomer has exactly one welcome.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.engine import Database
from bot.db.models import OutboxItem
from sandbox.process import start_steward, steward_env
from sandbox.scenario._open import _seed_discord, _seed_slack
from tests.conftest import shared_dir, until

pytestmark = pytest.mark.slow  # real processes, or long rehearsals: started first


async def _welcome_rows(url: str) -> list[OutboxItem]:
    db = Database(url)
    try:
        async with db.uow() as uow:
            rows = list(await uow.session.scalars(select(OutboxItem)))
            uow.session.expunge_all()
            return rows
    finally:
        await db.dispose()


async def _crash_then_restart(
    url: str,
    env: dict[str, str],
    log: Path,
    stall: Callable[[Callable[[], Awaitable[None]]], None],
    join: Callable[[], Awaitable[Any]],
    welcomes: Callable[[], int],
) -> None:
    first = await start_steward(env, log)
    killed = asyncio.Event()

    async def kill() -> None:
        first.kill()  # SIGKILL while the platform holds the answer
        await first.wait()
        killed.set()

    stall(kill)
    await join()
    await asyncio.wait_for(killed.wait(), 30)
    assert welcomes() == 1  # the platform took it; Steward never heard back
    [row] = await _welcome_rows(url)
    assert row.status == "pending" and row.attempted_at is not None

    second = await start_steward(env, log)
    try:

        async def recorded() -> bool:
            return (await _welcome_rows(url))[0].status == "sent"

        await until(recorded, "the restarted Steward to record the welcome", every=0.05)
        await asyncio.sleep(0.5)  # time for a wrong second post to land
        assert welcomes() == 1
        [row] = await _welcome_rows(url)
        # Recorded once: the try the crash cut short never was.
        assert row.message_id is not None and row.attempts == 1
    finally:
        second.terminate()
        await second.wait()


# Each platform on one database, crossed: what a restart does with the attempted row depends on
# the database (PostgreSQL: taken again once its lease has passed; SQLite: freed by the start,
# due LANDS on), what answers the resend on the platform (Discord's nonce, Slack's recent
# messages with the key) does not. Both databases and both platforms are killed mid-delivery
# again below (test_kills_while_delivering_lose_nothing_and_repeat_nothing, all four), and
# Discord on SQLite, Slack on PostgreSQL by test_kill_matrix.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_discord_welcome_survives_a_crash_between_send_and_record(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.discord import FakeDiscord

    async with FakeDiscord() as fake:
        guild, _people, settings = _seed_discord(fake)
        env = steward_env(
            settings, STEWARD_DATABASE_URL=database_url, STEWARD_FEATURES="onboarding"
        )
        nina = fake.add_user("nina")

        def stall(then: Callable[[], Awaitable[None]]) -> None:
            fake.rest.faults.stall_after["create_message"] = then

        async def join() -> None:
            await fake.member_joins(guild, nina)

        def welcomes() -> int:
            return len(fake.dms_of(nina))

        log = tmp_path / "steward.log"
        await _crash_then_restart(database_url, env, log, stall, join, welcomes)
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_slack_welcome_survives_a_crash_between_send_and_record(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.slack import FakeSlack

    async with FakeSlack() as fake:
        _channels, _people, settings = _seed_slack(fake)
        env = steward_env(
            settings, STEWARD_DATABASE_URL=database_url, STEWARD_FEATURES="onboarding"
        )
        joined: list[Any] = []

        def stall(then: Callable[[], Awaitable[None]]) -> None:
            fake.faults.stall_after("chat.postMessage", then)

        async def join() -> None:
            # No settling: the kill can land while Steward still stores the join's other events
            # (team_join and member_joined_channel come together), and the fake then retries
            # them, unacknowledged, for longer than a settle waits; the second Steward takes them.
            joined.append(await fake.member_joins("nina", settle=False))

        def welcomes() -> int:
            return len(fake.dms_of(joined[0]))

        log = tmp_path / "steward.log"
        await _crash_then_restart(database_url, env, log, stall, join, welcomes)
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Steward processes read only what the test gives them."""
    for name in list(os.environ):
        if name.startswith("STEWARD_") and name != "STEWARD_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_kills_while_delivering_lose_nothing_and_repeat_nothing(
    platform: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small version of ``python -m bench.relay_crash`` (50 kills): 60 posts to 3 channels,
    the process killed at a random point while it delivers, a second one finishes."""
    shared_dir()
    from bench import relay_crash

    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "20")  # the fake's and the processes' limits
    args = argparse.Namespace(
        kills=1,
        channels=3,
        posts=20,
        max_alive=0.4,
        seed=7,
        no_validate=False,
        finish_within=60.0,
        tmp=str(tmp_path),
    )
    run = relay_crash.run_discord if platform == "discord" else relay_crash.run_slack
    report = await run(args, database_url)

    assert report.kills == report.kills_mid_delivery == 1
    assert (report.sent, report.failed, report.received) == (60, 0, 60)
    assert (report.duplicates, report.missing, report.mismatched) == (0, 0, 0)
    assert report.order_broken == 0
