"""A killed Steward's Discord events, received and not yet stored, are stored by the next one.

Steward runs as a real process (``python -m bot run``) against the fake Discord in this test's
process. While the database holds Steward's writes back (the test locks the tables), members
post, react and join; the client's heartbeat tells the fake it received all of it; then the
process is killed (SIGKILL). The next process resumes the killed one's gateway session from the
last sequence it had stored, the fake replays the rest, and every message, reaction and join is
stored, each once (the day's counts are not doubled, one welcome DM). When the session cannot be
resumed (expired), the next process identifies anew and the catch-up on ready finds what was
sent meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.kill_matrix import _stored
from bot.db.engine import Database
from bot.db.models import GatewaySession
from cogs.engagement._models import EngagementDay
from sandbox.process import start_steward
from sandbox.scenario._open import _seed_discord
from tests.conftest import shared_dir


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _kept(url: str) -> list[tuple[str, int]]:
    db = Database(url)
    try:
        async with db.uow() as uow:
            rows = await uow.session.execute(select(GatewaySession.session_id, GatewaySession.seq))
            return [(r[0], r[1]) for r in rows]
    finally:
        await db.dispose()


async def _counted(url: str) -> tuple[int, int]:
    """The messages and reactions engagement counted (all on one day)."""
    db = Database(url)
    try:
        async with db.uow() as uow:
            row = (
                await uow.session.execute(
                    select(func.sum(EngagementDay.messages), func.sum(EngagementDay.reactions))
                )
            ).one()
            return int(row[0] or 0), int(row[1] or 0)
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def _writes_held(url: str) -> AsyncIterator[None]:
    """Steward's writes of messages, reactions and newcomers wait while this is open."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(
                text("LOCK TABLE engagement_events, onboarding_members IN EXCLUSIVE MODE")
            )
            yield
            await conn.rollback()
    finally:
        await db.dispose()


class World:
    """The fake Discord with a seeded guild, and what the members did."""

    def __init__(self, fake: Any, url: str) -> None:
        self.fake, self.url = fake, url
        self.guild, people, settings = _seed_discord(fake)
        self.regulars = [p.account for name, p in people.items() if name != "ada"]
        self.general = self.guild.channel_named("general")
        self.env = {
            "STEWARD_DATABASE_URL": url,
            "STEWARD_FEATURES": "onboarding,engagement",
            "STEWARD_DISCORD_TOKEN": settings["discord_token"],
            "STEWARD_DISCORD_API_BASE": settings["discord_api_base"],
            "STEWARD_DISCORD_GATEWAY_URL": settings["discord_gateway_url"],
        }
        self.posts: list[str] = []
        self.reactions: list[str] = []
        self.newcomers: list[Any] = []

    async def busy(self, n: int, *, to: list[Any] | None = None) -> list[Any]:
        """``n`` posts, a reaction each (to the post, or to one of the earlier messages ``to``:
        channel history shows no new message there, only a replay brings the reaction), and a
        newcomer; returns the posts."""
        posted = []
        for i in range(n):
            author = self.regulars[i % len(self.regulars)]
            message = await self.fake.user_says(author, self.general, f"post {len(self.posts)}")
            self.posts.append(message.id)
            posted.append(message)
            target = to[i % len(to)] if to else message
            reactor = next(r for r in self.regulars if f"{target.id}:{r.id}" not in self.reactions)
            await self.fake.react(reactor, target, "👍")
            self.reactions.append(f"{target.id}:{reactor.id}")
        newcomer = self.fake.add_user(f"newcomer{len(self.newcomers)}")
        await self.fake.member_joins(self.guild, newcomer)
        self.newcomers.append(newcomer)
        return posted

    async def received(self) -> None:
        """Until the client's heartbeat says it received every dispatch of its session."""
        gateway = self.fake.gateway
        await self.fake.wait_for(
            lambda: (gateway.last_heartbeat_seq(0) or 0) >= gateway.session.seq, timeout=60
        )

    async def missing(self) -> list[str]:
        stored = await _stored(self.url)
        return (
            [p for p in self.posts if p not in stored["messages"]]
            + [r for r in self.reactions if r not in stored["reactions"]]
            + [u.id for u in self.newcomers if u.id not in stored["members"]]
        )

    async def all_stored(self) -> bool:
        return not await self.missing()


def _kill_with_children(pid: int) -> None:
    """SIGKILL a process and the processes it started (a stopped container, the OOM killer)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for p in [pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


async def _started(world: World, log: Path) -> Any:
    process = await start_steward(world.env, log)

    async def kept() -> bool:
        return bool(await _kept(world.url))

    await _until(kept, "the gateway session to be kept")
    return process


async def test_events_a_killed_process_received_are_replayed_and_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.discord import FakeDiscord

    async with FakeDiscord() as fake:
        fake.gateway.heartbeat_interval_ms = 300  # heartbeats (acks of "received") come often
        world = World(fake, database_url)
        log = tmp_path / "steward.log"
        first = await _started(world, log)
        try:
            earlier = await world.busy(2)
            await _until(world.all_stored, "the first posts to be stored")
            [(session_id, _)] = await _kept(database_url)
            async with _writes_held(database_url):
                await world.busy(4, to=earlier)
                # A reaction taken back: history shows only what stands, so no catch-up can
                # tell; only the replayed event does.
                taken = world.reactions.pop(0)
                reactor = next(u for u in world.regulars if taken.endswith(f":{u.id}"))
                await fake.unreact(reactor, earlier[0], "👍")
                await world.received()
                _kill_with_children(first.pid)  # Steward and its engagement writer
                await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        # Acked (heartbeated as received) and not stored, all of it: 4 posts, 4 reactions to
        # older messages, a newcomer, a reaction taken back; a new session would send none.
        assert len(await world.missing()) == 9
        assert taken in (await _stored(database_url))["reactions"]

        second = await start_steward(world.env, log)
        try:
            await _until(world.all_stored, "the restarted Steward to store what was replayed")

            async def taken_back() -> bool:
                return taken not in (await _stored(database_url))["reactions"]

            await _until(taken_back, "the reaction taken back to be stored as such")
            await world.busy(1)  # and live events after the replay
            await _until(world.all_stored, "the live events after the replay")
            await asyncio.sleep(1.0)  # time for a second welcome to land
        finally:
            second.terminate()
            await second.wait()
        gateway = fake.gateway
        assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (1, 1, 0)
        assert gateway.session is not None and gateway.session.id == session_id
        # Each once: the day's counts hold each message and reaction once, one welcome DM each.
        assert await _counted(database_url) == (len(world.posts), len(world.reactions))
        assert [len(fake.dms_of(u)) for u in world.newcomers] == [1] * len(world.newcomers)
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_a_session_past_resuming_identifies_anew_and_catches_up(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.discord import FakeDiscord

    async with FakeDiscord() as fake:
        world = World(fake, database_url)
        log = tmp_path / "steward.log"
        first = await _started(world, log)
        await world.busy(1)
        await _until(world.all_stored, "the first post to be stored")
        first.kill()
        await first.wait()
        await world.busy(2)  # while no process runs
        fake.gateway.resume_window = 0.0  # Discord forgot the session meanwhile

        second = await start_steward(world.env, log)
        try:
            await _until(world.all_stored, "the catch-up on ready to store what was missed")
        finally:
            second.terminate()
            await second.wait()
        gateway = fake.gateway
        assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (2, 0, 1)
        [(session_id, _)] = await _kept(database_url)
        assert gateway.session is not None and gateway.session.id == session_id  # the new one
        assert await _counted(database_url) == (len(world.posts), len(world.reactions))
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_a_clean_stop_keeps_the_session_for_the_next_start(
    database_url: str, tmp_path: Path
) -> None:
    shared_dir()
    from sandbox.discord import FakeDiscord

    async with FakeDiscord() as fake:
        world = World(fake, database_url)
        log = tmp_path / "steward.log"
        first = await _started(world, log)
        earlier = await world.busy(1)
        await _until(world.all_stored, "the first post to be stored")
        first.terminate()  # a clean stop (a deploy): the session is closed, not ended
        assert await first.wait() == 0
        await world.busy(2, to=earlier)  # while no process runs
        taken = world.reactions.pop(0)
        reactor = next(u for u in world.regulars if taken.endswith(f":{u.id}"))
        await fake.unreact(reactor, earlier[0], "👍")  # no catch-up can tell this one

        second = await start_steward(world.env, log)
        try:
            await _until(world.all_stored, "the replay to store what was sent meanwhile")

            async def taken_back() -> bool:
                return taken not in (await _stored(database_url))["reactions"]

            await _until(taken_back, "the reaction taken back to be stored as such")
        finally:
            second.terminate()
            await second.wait()
        gateway = fake.gateway
        assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (1, 1, 0)
        assert await _counted(database_url) == (len(world.posts), len(world.reactions))
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)
