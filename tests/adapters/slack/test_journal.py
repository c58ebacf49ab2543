"""Slack events acked while the database is away survive a kill: they are journaled first.

Steward runs as a real process (``python -m bot run``) against the fake Slack in this test's
process. The database is taken away (PostgreSQL through a loopback proxy that resets and
refuses connections; SQLite locked by another connection), newcomers join and Slack's events
are acked: while the database is away each is written to the process's journal (fsynced)
before its ack. The process is killed (SIGKILL), the database comes back, a new process
starts: it reads the journal into the inbox, and every newcomer is welcomed exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core import FakeClock
from bot.core.activity import Activity
from bot.core.inbox import Inbox
from bot.core.spill import SUFFIX, Spilled
from bot.db.engine import Database
from bot.db.models import HandledEvent, InboxEvent
from sandbox.outage import through_outage
from sandbox.process import start_steward, steward_env
from sandbox.scenario._open import _seed_slack
from sandbox.slack import payloads
from tests.conftest import shared_dir, until

NEWCOMERS = 6


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Steward processes read only what the test gives them."""
    for name in list(os.environ):
        if name.startswith("STEWARD_") and name not in (
            "STEWARD_TEST_POSTGRES_URL",
            "STEWARD_PLATFORM_SPEED",
        ):
            monkeypatch.delenv(name)


async def _counts(url: str) -> tuple[int, int]:
    """(inbox rows, handled ids)."""
    db = Database(url)
    try:
        async with db.reads() as uow:
            rows = await uow.session.scalar(select(func.count()).select_from(InboxEvent))
            handled = await uow.session.scalar(select(func.count()).select_from(HandledEvent))
            return int(rows or 0), int(handled or 0)
    finally:
        await db.dispose()


def _journals(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []


@pytest.mark.slow  # real processes: started first
async def test_events_acked_while_the_database_is_away_survive_a_kill(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.slack import FakeSlack

    spill = tmp_path / "spill"
    log = tmp_path / "steward.log"
    async with FakeSlack() as fake, through_outage(database_url) as (url, outage):
        _channels, _people, settings = _seed_slack(fake)
        env = steward_env(
            settings,
            STEWARD_DATABASE_URL=url,
            STEWARD_FEATURES="onboarding",
            STEWARD_SPILL_DIR=str(spill),
            STEWARD_SQLITE_BUSY_TIMEOUT_MS="200",
        )
        newcomers = [fake.add_user(f"new{i}", in_general=False) for i in range(NEWCOMERS)]
        first = await start_steward(env, log)
        try:
            await fake.wait_for(lambda: fake.socket.connected, 30)
            await outage.away()
            deliveries = []
            for i, person in enumerate(newcomers):
                envelope = payloads.event_callback(
                    fake.team,
                    {"type": "team_join", "user": person.to_api(), "event_ts": f"9.{i}"},
                    f"Ev0AWAY{i}",
                )
                deliveries.append(await fake.deliver("event", envelope))
            assert all(d.ok for d in deliveries), [
                [a.outcome for a in d.attempts] for d in deliveries
            ]
            [journal] = _journals(spill)
            assert len(journal.read_bytes().splitlines()) == NEWCOMERS
        finally:
            first.kill()  # SIGKILL: no cleanup, the events only acked and journaled
            await first.wait()
        # The kill cut a write short: a half line at the end is skipped, not a crash.
        with journal.open("ab") as cut:
            cut.write(b'{"key":"slack:Ev0CUT","team_id":"T')
        assert [len(fake.dms_of(p)) for p in newcomers] == [0] * NEWCOMERS
        await outage.back()

        second = await start_steward(env, log)
        try:
            await until(
                lambda: all(fake.dms_of(p) for p in newcomers),
                "the restarted Steward to welcome every newcomer",
                within=60,
                every=0.05,
            )

            async def cleared() -> bool:
                return (await _counts(url))[0] == 0

            await until(cleared, "the inbox to be cleared", within=60, every=0.05)
            await asyncio.sleep(0.5)  # time for a wrong second welcome to land
            assert [len(fake.dms_of(p)) for p in newcomers] == [1] * NEWCOMERS
            assert (await _counts(url))[1] >= NEWCOMERS
            assert _journals(spill) == []  # read into the inbox, then removed
        finally:
            second.terminate()
            await second.wait()
        said = log.read_text()
        assert "line 7 is not a whole event (cut short by a kill?); skipped" in said
        assert "Traceback" not in said
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_a_journal_a_live_process_holds_is_left_to_it(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two processes share the journals' directory: one starting while the other lives does
    not read the other's journal (it is locked); once that one stops, it is read, once."""
    caplog.set_level(logging.WARNING)
    db = Database(database_url)
    clock = FakeClock()

    async def written() -> bool:
        return True

    def process() -> Inbox:
        return Inbox(db.uow, clock, Activity(), written, journals=tmp_path)

    try:
        live, starting = process(), process()
        body: dict[str, Any] = {"event_id": "Ev0LIVE", "team_id": "T1"}
        assert live.journal is not None
        spilled = Spilled("slack:Ev0LIVE", "T1", body, clock.now())
        await asyncio.to_thread(live.journal.append, spilled)  # not moved yet (as if away)
        assert await starting.recover() == 0  # locked by a live process: not read
        assert _journals(tmp_path) == [live.journal.path]
        live.journal.close()  # killed: its lock goes with it, its journal stays
        assert await starting.recover() == 1
        assert await starting.recover() == 0  # read once
        assert _journals(tmp_path) == []
        async with db.reads() as uow:
            rows = (await uow.session.execute(select(InboxEvent.key, InboxEvent.owner))).all()
        assert [tuple(r) for r in rows] == [("slack:Ev0LIVE", None)]
        assert [lo.key for lo in await starting.leftovers()] == ["slack:Ev0LIVE"]
        await starting.close()
    finally:
        await db.dispose()


def test_the_journals_directory_follows_the_database_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import Config

    monkeypatch.delenv("STEWARD_SPILL_DIR", raising=False)

    def where(**settings: Any) -> Path:
        return Config(_env_file=None, **settings).spill_directory

    assert where() == Path("steward.db.spill")
    assert where(database_url=f"sqlite+aiosqlite:///{tmp_path}/a.db") == tmp_path / "a.db.spill"
    assert where(database_url="postgresql://u:secret@db:5432/steward") == Path(
        "steward-spill/steward"
    )
    assert where(spill_dir=str(tmp_path / "j"), database_url="postgresql://db/x") == tmp_path / "j"
