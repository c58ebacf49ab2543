"""The database away while members join and post: nothing acknowledged is lost.

PostgreSQL is reached through a loopback proxy that resets every open connection and each new
one; SQLite is locked by another connection (``BEGIN EXCLUSIVE``). Time runs ``SCALE`` times
faster than in production, all of it together (as the platforms' rate limits do in these tests):
the listeners' retries, SQLite's busy timeout and the outage. The
outage lasts 6 s, five minutes at production speed: longer than a listener's whole retry budget
on both databases (16 s on PostgreSQL; on SQLite each of the 7 tries may also wait out the 30 s
busy timeout, so a one-minute lock would pass within the budget and proves less).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, text

from bot.builtin import Steward
from bot.cli import main
from bot.core.dispatch import RETRY_DELAYS
from bot.core.outage import DatabaseGate
from bot.db.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_POOL_SIZE, Database
from cogs.engagement import Engagement
from cogs.engagement._models import EVENTS, MEMBER_DAYS
from cogs.onboarding import Onboarding
from sandbox.outage import Outage, through_outage
from sandbox.scenario import Community, Person, open_community
from tests.conftest import until

SCALE = 50
OUTAGE = 300.0 / SCALE
NEWCOMERS = 12
POSTS = 3
"""Each newcomer posts this many messages while the database is away."""


@contextlib.asynccontextmanager
async def _back_at_the_end(outage: Outage) -> AsyncIterator[None]:
    """A failing test brings the database back before Steward stops."""
    try:
        yield
    finally:
        if outage.is_away:
            await outage.back()


async def healthz(community: Community) -> tuple[int, str]:
    web = community.app.web
    assert web is not None
    url = f"http://127.0.0.1:{web.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def arrives(community: Community, name: str) -> Person:
    """A newcomer joins on the platform (not waiting for Steward: the database is away)."""
    fake: Any = getattr(community, "fake", None)
    if community.platform == "discord":
        user = fake.add_user(name)
        await fake.member_joins(community.guild, user)  # type: ignore[attr-defined]
    else:
        user = await fake.member_joins(name)
    person = Person(name, community.people["alice"].level, user.id, user)
    community.people[name] = person
    return person


async def posts(community: Community, person: Person, text: str) -> None:
    """A message in #general (not waiting for Steward)."""
    fake: Any = getattr(community, "fake", None)
    if community.platform == "discord":
        channel = community.guild.channel_named("general")  # type: ignore[attr-defined]
    else:
        channel = community.channels["general"]  # type: ignore[attr-defined]
    await fake.user_says(person.account, channel, text)


def welcomes(community: Community, person: Person) -> tuple[int, int]:
    """(public welcomes naming the person in #welcome, welcome DMs to them)."""
    mention = community.mention(person)
    public = sum(
        "Welcome to" in m.text and mention in m.text for m in community.messages_in("welcome")
    )
    private = sum("Welcome to" in m.text for m in community.dms_of(person))
    return public, private


async def counted(community: Community, people: list[Person]) -> dict[str, tuple[int, int]]:
    """Per person: messages stored by engagement (raw events) and counted in its rollups."""
    ids = [p.id for p in people]
    async with community.app.db.reads() as uow:
        s = uow.session
        raw = dict(
            (
                await s.execute(
                    select(EVENTS.c.user_id, func.count())
                    .where(EVENTS.c.kind == "message", EVENTS.c.user_id.in_(ids))
                    .group_by(EVENTS.c.user_id)
                )
            ).all()
        )
        rolled = dict(
            (
                await s.execute(
                    select(MEMBER_DAYS.c.user_id, func.sum(MEMBER_DAYS.c.messages))
                    .where(MEMBER_DAYS.c.user_id.in_(ids))
                    .group_by(MEMBER_DAYS.c.user_id)
                )
            ).all()
        )
    return {p.name: (int(raw.get(p.id, 0)), int(rolled.get(p.id, 0) or 0)) for p in people}


class Recorded(logging.Handler):
    """Keeps log records (warnings and worse: `steward doctor` raises the root level)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep it."""
        self.records.append(record)


def doctor(url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """What `steward doctor` prints about the database (the platforms are not configured)."""
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    capsys.readouterr()
    main(["doctor"])
    return capsys.readouterr().out


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_members_who_join_and_post_while_the_database_is_away_are_all_handled_once(
    platform: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STEWARD_SQLITE_BUSY_TIMEOUT_MS", str(SQLITE_BUSY_TIMEOUT_MS // SCALE))
    features = [Steward(), Onboarding(), Engagement()]
    config = {"http_port": 0, "metrics": True}
    async with (
        through_outage(database_url) as (url, outage),
        open_community(platform, url, features, config=config) as community,
        _back_at_the_end(outage),
    ):
        app = community.app
        app.dispatcher.retry_delays = tuple(d / SCALE for d in RETRY_DELAYS)
        assert app.health is not None
        await community.configure(
            "onboarding", welcome_channel=community.channel_mention("welcome")
        )
        assert await healthz(community) == (200, "ready\n")
        before = app.dispatcher.database.probes

        logged = Recorded()  # every library's, not only Steward's
        logging.getLogger().addHandler(logged)
        await outage.away()
        started = time.monotonic()
        newcomers = [await arrives(community, f"guest{i}") for i in range(NEWCOMERS)]
        for n in range(POSTS):
            for person in newcomers:
                await posts(community, person, f"hello {n} from {person.name}")

        # While it is away: /healthz says why, and so does `steward doctor`, in plain words.
        for _ in range(100):  # the health check notices within about a second (more when busy)
            await asyncio.sleep(0.1)
            status, text = await healthz(community)
            if status == 503:
                break
        assert status == 503 and text.startswith("degraded: database unreachable ("), text
        said = await asyncio.to_thread(doctor, url, monkeypatch, capsys)
        assert "Traceback" not in said
        database_lines = [line for line in said.splitlines() if "database" in line.lower()]
        assert any(
            re.search(r"closed the connection|locked by another", line) for line in database_lines
        ), said

        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
        # The outage has outlived a listener's whole retry budget (busy timeouts included).
        budget = sum(app.dispatcher.retry_delays) + 7 * SQLITE_BUSY_TIMEOUT_MS / 1000 / SCALE
        assert time.monotonic() - started > budget
        assert app.dispatcher.gave_up == {}
        during = list(logged.records)
        logging.getLogger().removeHandler(logged)
        probes = app.dispatcher.database.probes - before
        attempts = outage.attempts
        await outage.back()

        await community.settle()
        # A delivery whose try met the outage goes out on the outbox's schedule, as time passes.
        await community.advance(minutes=1)
        for engagement in [f for f in features if isinstance(f, Engagement)]:
            await engagement.ingest.flush()
        await community.settle()

        # Everyone is welcomed exactly once, in #welcome and by DM.
        assert {p.name: welcomes(community, p) for p in newcomers} == {
            p.name: (1, 1) for p in newcomers
        }
        # Every message is counted once (stored once, rolled up once).
        assert await counted(community, newcomers) == {p.name: (POSTS, POSTS) for p in newcomers}
        # Nothing was given up on, nothing waits as failed.
        assert app.dispatcher.gave_up == {}
        assert app.dispatcher.kept.waiting == 0
        for _ in range(50):  # the next check finds it back
            if (await healthz(community))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert await healthz(community) == (200, "ready\n")

    # No hot loop and no flood in the log: the outage stands for 300 s at production speed.
    seconds = OUTAGE * SCALE
    assert probes <= seconds / 5, probes  # one probe for every waiting listener, backing off
    assert attempts <= seconds, attempts  # connections tried (mostly one per event arriving)
    lines = [f"{r.name}: {r.getMessage()}" for r in during]
    # Ordinary trouble: no traceback, each said in one line, and each place says it once
    # (not once an event: 12 newcomers post 3 times each meanwhile).
    assert [line for r, line in zip(during, lines, strict=True) if r.exc_info] == [], lines
    assert [line for line in lines if "\n" in line] == [], lines
    places = [(r.name, r.msg) for r in during]
    assert len(set(places)) == len(places), lines
    assert len(lines) <= 6, lines  # the database, the health check, the listening connection ...
    said_away = [line for line in lines if line.startswith("steward.database")]
    assert len(said_away) == 1, lines
    assert said_away[0].startswith("steward.database: the database is unreachable ("), lines


@contextlib.asynccontextmanager
async def _taken(db: Database) -> AsyncIterator[None]:
    """A pooled connection held in a read; how it ends once the outage reset it is no matter."""
    uow = db.reads()
    await uow.__aenter__()
    await uow.session.execute(text("SELECT 1"))
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await uow.__aexit__(None, None, None)


async def test_the_gate_finds_the_database_away_while_every_pooled_connection_is_taken(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another program holds SQLite's lock while each of Steward's pooled connections is taken
    (in production, each waiting out its 30 s busy timeout): the gate's probe is a connection of
    its own that waits half a second, so the log and ``/healthz`` say the database is away at
    once, instead of the probe queueing behind the pool, waiting out a busy timeout of its own,
    and finding the database up as the lock went (a minute's lock was never said). On
    PostgreSQL the refused connection fails the probe at once."""
    caplog.set_level(logging.WARNING, "steward.database")
    async with through_outage(database_url) as (url, outage), contextlib.AsyncExitStack() as held:
        db = Database(url)
        held.push_async_callback(db.dispose)
        gate = DatabaseGate(db, lambda: (0.05,))
        held.push_async_callback(gate.close)
        for _ in range(SQLITE_POOL_SIZE):  # the whole pool, taken
            await held.enter_async_context(_taken(db))
        await outage.away()
        try:
            waiting = asyncio.create_task(gate.wait_until_up())
            await until(lambda: gate.away, "the gate to find the database away", within=15)
            said = [r.getMessage() for r in caplog.records]
            assert any(m.startswith("the database is unreachable (") for m in said), said
        finally:
            await outage.back()
        assert await asyncio.wait_for(waiting, 15) is True
        assert not gate.away
