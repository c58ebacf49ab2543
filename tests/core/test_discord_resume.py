"""A killed Steward's Discord events, received and not yet stored, are stored by the next one.

Steward runs as a real process (``python -m bot run``) against the fake Discord in this test's
process. While the database holds Steward's writes back (the test locks the tables), members
post, react and join; the client's heartbeat tells the fake it received all of it; then the
process is killed (SIGKILL). The next process resumes the killed one's gateway session from the
last sequence it had stored, the fake replays the rest, and every message, reaction and join is
stored, each once (the day's counts are not doubled, one welcome DM). Events the killed process
had stored but its watermark did not cover yet (edits, a deletion, leavings, reactions taken
back) come again and are stored once. With two shards each resumes its own session. A clean stop
leaves the sessions resumable and saves the watermarks last. When the session cannot be resumed
(expired), the next process identifies anew and the catch-up on ready finds what was sent
meanwhile.
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

import pytest
from sqlalchemy import func, select, text, update

from bench.kill_matrix import _stored
from bot.db.engine import Database
from bot.db.models import GatewaySession
from cogs.engagement._models import EngagementDay, EngagementEvent
from sandbox.process import start_steward, steward_env
from sandbox.scenario._open import _seed_discord
from tests.conftest import shared_dir

pytestmark = pytest.mark.slow  # real processes, or long rehearsals: started first


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _kept(url: str) -> list[tuple[str, int]]:
    """Each kept session (by shard): its id and watermark."""
    db = Database(url)
    try:
        async with db.uow() as uow:
            rows = await uow.session.execute(
                select(GatewaySession.session_id, GatewaySession.seq).order_by(
                    GatewaySession.shard_id
                )
            )
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
    """The fake Discord with a seeded guild (one per shard when sharded), what the members
    did, and the Steward processes started on it (ended at the test's end)."""

    def __init__(self, fake: Any, url: str, log: Path, *, shards: int = 1) -> None:
        self.fake, self.url, self.log = fake, url, log
        self.guild, people, settings = _seed_discord(fake)
        self.regulars = [p.account for name, p in people.items() if name != "ada"]
        self.guilds = [self.guild]  # one on each shard, the seeded one first
        for guild in fake.guild_on_each_shard(shards, have=[self.guild]):
            if guild is not self.guild:
                self.guilds.append(guild)
                for user in self.regulars:
                    fake.add_member(guild, user)
        self.general = self.guild.channel_named("general")
        self.env = steward_env(
            settings, STEWARD_DATABASE_URL=url, STEWARD_FEATURES="onboarding,engagement"
        )
        if shards > 1:
            self.env["STEWARD_DISCORD_SHARD_COUNT"] = str(shards)
        self.shards = shards
        self.posts: list[str] = []
        self.reactions: list[str] = []
        self.newcomers: list[Any] = []
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        """Start Steward; return once each of its shards' sessions is kept."""
        process = await start_steward(self.env, self.log)
        self.processes.append(process)

        async def kept() -> bool:
            return len(await _kept(self.url)) == self.shards

        await _until(kept, "the gateway sessions to be kept")
        return process

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        """SIGKILL Steward and its engagement writer (a stopped container, the OOM killer)."""
        _kill_with_children(process.pid)
        await process.wait()

    async def end(self) -> None:
        """Stop what still runs (the test's end)."""
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
                await process.wait()

    async def busy(
        self, n: int, *, to: list[Any] | None = None, newcomer: bool = True
    ) -> list[Any]:
        """``n`` posts (in each guild in turn), a reaction each (to the post, or to one of the
        earlier messages ``to``: channel history shows no new message there, only a replay
        brings the reaction), and a newcomer (in the next guild); returns the posts."""
        posted = []
        for i in range(n):
            author = self.regulars[i % len(self.regulars)]
            general = self.guilds[len(self.posts) % len(self.guilds)].channel_named("general")
            message = await self.fake.user_says(author, general, f"post {len(self.posts)}")
            self.posts.append(message.id)
            posted.append(message)
            target = to[i % len(to)] if to else message
            reactor = next(r for r in self.regulars if f"{target.id}:{r.id}" not in self.reactions)
            await self.fake.react(reactor, target, "👍")
            self.reactions.append(f"{target.id}:{reactor.id}")
        if newcomer:
            user = self.fake.add_user(f"newcomer{len(self.newcomers)}")
            await self.fake.member_joins(self.guilds[len(self.newcomers) % len(self.guilds)], user)
            self.newcomers.append(user)
        return posted

    async def received(self) -> None:
        """Until the client's heartbeats say it received every dispatch of its sessions."""
        gateway = self.fake.gateway
        await self.fake.wait_for(
            lambda: all(_heartbeat(gateway, s) >= s.seq for s in gateway.sessions.values()),
            timeout=60,
        )

    async def handled(self) -> None:
        """Until the kept watermarks reach the last dispatch of each session: the restarted
        Steward handled everything the fake replayed."""
        gateway = self.fake.gateway

        async def caught_up() -> bool:
            sent = {s.id: s.seq for s in gateway.sessions.values()}
            return all(sent.get(session_id, 0) <= seq for session_id, seq in await _kept(self.url))

        await _until(caught_up, "the kept watermarks to reach the fake's last dispatches")

    async def missing(self) -> list[str]:
        stored = await _stored(self.url)
        return (
            [p for p in self.posts if p not in stored["messages"]]
            + [r for r in self.reactions if r not in stored["reactions"]]
            + [u.id for u in self.newcomers if u.id not in stored["members"]]
        )

    async def all_stored(self) -> bool:
        return not await self.missing()


def _heartbeat(gateway: Any, session: Any) -> int:
    """The highest sequence the client's heartbeats carried on the session's connections."""
    mine = {
        f.connection
        for f in gateway.client_frames
        if (f.op == 2 and (f.d or {}).get("shard") == session.shard)
        or (f.op == 6 and (f.d or {}).get("session_id") == session.id)
    }
    return max(
        (f.d for f in gateway.client_frames if f.op == 1 and f.connection in mine and f.d),
        default=0,
    )


def _resumed_from(gateway: Any) -> dict[str, int]:
    """Each RESUME the client sent: the session it named, and the sequence it resumed from."""
    return {f.d["session_id"]: f.d["seq"] for f in gateway.client_frames if f.op == 6}


def _kill_with_children(pid: int) -> None:
    """SIGKILL a process and the processes it started."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for p in [pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)


@pytest.fixture
async def worlds(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., World]]:
    """Makes the test's world (``shards=2``: one guild on each shard); at the end, stops the
    Steward processes still running and fails on anything the fake Discord would refuse."""
    shared_dir()
    from sandbox.discord import FakeDiscord

    made: list[World] = []
    async with FakeDiscord() as fake:

        def make(*, shards: int = 1) -> World:
            made.append(World(fake, database_url, tmp_path / "steward.log", shards=shards))
            return made[-1]

        try:
            yield make
        finally:
            for world in made:
                await world.end()
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_events_a_killed_process_received_are_replayed_and_stored_once(
    worlds: Callable[..., World], database_url: str
) -> None:
    world = worlds()
    fake = world.fake
    fake.gateway.heartbeat_interval_ms = 300  # heartbeats (acks of "received") come often
    first = await world.start()
    earlier = await world.busy(2)
    await _until(world.all_stored, "the first posts to be stored")
    [(session_id, _)] = await _kept(database_url)
    async with _writes_held(database_url):
        await world.busy(4, to=earlier)
        # A reaction taken back: history shows only what stands, so no catch-up can tell; only
        # the replayed event does.
        taken = world.reactions.pop(0)
        reactor = next(u for u in world.regulars if taken.endswith(f":{u.id}"))
        await fake.unreact(reactor, earlier[0], "👍")
        await world.received()
        await world.kill(first)
    # Acked (heartbeated as received) and not stored, all of it: 4 posts, 4 reactions to older
    # messages, a newcomer, a reaction taken back; a new session would send none.
    assert len(await world.missing()) == 9
    assert taken in (await _stored(database_url))["reactions"]

    await world.start()
    await _until(world.all_stored, "the restarted Steward to store what was replayed")

    async def taken_back() -> bool:
        return taken not in (await _stored(database_url))["reactions"]

    await _until(taken_back, "the reaction taken back to be stored as such")
    await world.busy(1)  # and live events after the replay
    await _until(world.all_stored, "the live events after the replay")
    await asyncio.sleep(1.0)  # time for a second welcome to land
    await world.end()
    gateway = fake.gateway
    assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (1, 1, 0)
    assert gateway.session is not None and gateway.session.id == session_id
    # Each once: the day's counts hold each message and reaction once, one welcome DM each.
    assert await _counted(database_url) == (len(world.posts), len(world.reactions))
    assert [len(fake.dms_of(u)) for u in world.newcomers] == [1] * len(world.newcomers)


async def test_replayed_edits_deletions_leavings_and_reactions_taken_back_count_once(
    worlds: Callable[..., World], database_url: str
) -> None:
    """Events the killed process had stored, replayed because its watermark had not been
    saved since (it is saved at most once a second): none is stored twice. Two edits of one
    message, a member who leaves, comes back and leaves again, and a reaction taken back,
    given again and taken back again are each two events, on replay too."""
    world = worlds()
    fake = world.fake
    first = await world.start()
    edited, deleted, reacted = await world.busy(3)
    await _until(world.all_stored, "the first posts to be stored")
    gateway = fake.gateway
    assert gateway.session is not None
    before = gateway.session.seq
    await fake.user_edits(edited, "edited once")
    await fake.user_edits(edited, "edited twice")
    await fake.user_deletes(deleted)
    leaver = world.newcomers[0]
    await fake.member_leaves(world.guild, leaver)
    await fake.member_joins(world.guild, leaver)
    await fake.member_leaves(world.guild, leaver)
    reaction = world.reactions.pop(2)
    reactor = next(u for u in world.regulars if reaction == f"{reacted.id}:{u.id}")
    await fake.unreact(reactor, reacted, "👍")
    await fake.react(reactor, reacted, "👍")
    await fake.unreact(reactor, reacted, "👍")
    once = {"message": 3, "reaction": 2, "join": 2, "edit": 2, "delete": 1, "leave": 2}
    once["unreaction"] = 2

    async def all_stored() -> bool:
        return await _kinds(database_url) == once

    await _until(all_stored, "the edits, the deletion, the leavings and the takings back")
    assert await _counted(database_url) == (3, 2)
    await world.kill(first)
    # Killed before its next save of the watermark: the next process resumes from before
    # these events, and Discord sends them all again.
    await _rewind(database_url, before)

    await world.start()
    await world.handled()
    await world.busy(1)  # live events after the replay
    await _until(world.all_stored, "the live events after the replay")
    await world.end()
    assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (1, 1, 0)
    assert list(_resumed_from(gateway).values()) == [before]
    once.update(message=4, reaction=3, join=3)
    assert await _kinds(database_url) == once
    # What a manager's report counts: the reaction taken back stays taken back.
    assert await _counted(database_url) == (4, 3)


# On PostgreSQL only: what is the shards' own (a session and a watermark kept for each, each
# resumed from its own) does not depend on the database; on SQLite each shard's watermark is kept
# and resumed from by the clean stop on two shards below, and replays are stored once by the
# single-shard kill above, on both databases.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_each_shard_of_a_killed_process_resumes_its_own_session(
    worlds: Callable[..., World], database_url: str
) -> None:
    """Two shards in one process (``STEWARD_DISCORD_SHARD_COUNT=2``), one guild on each: after
    a kill, each shard resumes the session it kept, and what each was sent is stored once."""
    world = worlds(shards=2)
    fake = world.fake
    fake.gateway.heartbeat_interval_ms = 300
    first = await world.start()
    earlier = await world.busy(2)  # one post in each guild
    await _until(world.all_stored, "the first posts to be stored")
    kept = await _kept(database_url)
    assert len({session_id for session_id, _ in kept}) == 2
    async with _writes_held(database_url):
        await world.busy(4, to=earlier)  # two posts, reactions and a newcomer on each shard
        await world.busy(1)
        await world.received()
        await world.kill(first)
    assert len(await world.missing()) == 4 + 4 + 2 + 1 + 1
    kept = await _kept(database_url)

    await world.start()
    await _until(world.all_stored, "the restarted Steward to store what both shards replayed")
    await world.handled()
    await world.busy(2)  # live, on both shards
    await _until(world.all_stored, "the live events after the replay")
    await asyncio.sleep(1.0)  # time for a second welcome to land
    await world.end()
    gateway = fake.gateway
    assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (2, 2, 0)
    assert _resumed_from(gateway) == dict(kept)  # each shard its own session, from its mark
    assert sorted(s.shard or [] for s in gateway.sessions.values()) == [[0, 2], [1, 2]]
    assert sorted(s.id for s in gateway.sessions.values()) == sorted(dict(kept))
    assert await _counted(database_url) == (len(world.posts), len(world.reactions))
    assert [len(fake.dms_of(u)) for u in world.newcomers] == [1] * len(world.newcomers)


# On SQLite only: identifying anew after an INVALID_SESSION that cannot be resumed, and the
# catch-up on ready, do not depend on the database, and are covered on PostgreSQL (in one
# process) by test_gateway_matrix's op9_not_resumable and close_4009 cells; reading the kept
# session at a start, on PostgreSQL, by the kill tests above.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_session_past_resuming_identifies_anew_and_catches_up(
    worlds: Callable[..., World], database_url: str
) -> None:
    world = worlds()
    fake = world.fake
    first = await world.start()
    await world.busy(1)
    await _until(world.all_stored, "the first post to be stored")
    first.kill()
    await first.wait()
    await world.busy(2)  # while no process runs
    fake.gateway.resume_window = 0.0  # Discord forgot the session meanwhile

    await world.start()
    await _until(world.all_stored, "the catch-up on ready to store what was missed")
    await world.end()
    gateway = fake.gateway
    assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (2, 0, 1)
    [(session_id, _)] = await _kept(database_url)
    assert gateway.session is not None and gateway.session.id == session_id  # the new one
    assert await _counted(database_url) == (len(world.posts), len(world.reactions))


# One shard on PostgreSQL, two on SQLite: how a stop closes the connections (one shard's
# client, or the sharded one's) does not depend on the database, and what it keeps (each
# shard's session and watermark, saved last) is written the same way on both; two shards on
# PostgreSQL are resumed each from its own kept session by the kill test above.
@pytest.mark.parametrize(
    ("database_url", "shards"), [("postgres", 1), ("sqlite", 2)], indirect=["database_url"]
)
async def test_a_clean_stop_keeps_the_session_for_the_next_start(
    worlds: Callable[..., World], database_url: str, shards: int
) -> None:
    """A stop (a deploy) closes each shard's connection without ending its session (not with
    1000, which ends it) and saves the watermarks last: the next process resumes each session
    from its last dispatch, and Discord sends only what came while no process ran.

    On one shard discord.py's close goes out as 4000 whatever Steward asks (its reading loop
    closes the socket first); its sharded client stops each shard's loop first, so there the
    1000 would go out."""
    world = worlds(shards=shards)
    fake = world.fake
    first = await world.start()
    # No newcomer: Steward's welcome would come back as a dispatch, perhaps while it stops.
    earlier = await world.busy(shards, newcomer=False)
    await _until(world.all_stored, "the first posts to be stored")
    first.terminate()  # a clean stop (a deploy): the session is closed, not ended
    assert await first.wait() == 0
    gateway = fake.gateway
    last = {s.id: s.seq for s in gateway.sessions.values()}
    assert 1000 not in gateway.ended and 1001 not in gateway.ended
    await world.busy(2 * shards, to=earlier)  # while no process runs
    taken = world.reactions.pop(0)
    reactor = next(u for u in world.regulars if taken.endswith(f":{u.id}"))
    await fake.unreact(reactor, earlier[0], "👍")  # no catch-up can tell this one

    await world.start()
    await _until(world.all_stored, "the replay to store what was sent meanwhile")

    async def taken_back() -> bool:
        return taken not in (await _stored(database_url))["reactions"]

    await _until(taken_back, "the reaction taken back to be stored as such")
    await world.end()
    assert (gateway.identifies, gateway.resumes, gateway.invalid_resumes) == (
        shards,
        shards,
        0,
    )
    # From the last dispatch each shard had when it stopped: nothing handled comes again.
    assert _resumed_from(gateway) == last
    assert await _counted(database_url) == (len(world.posts), len(world.reactions))


async def _kinds(url: str) -> dict[str, int]:
    """How many raw engagement events of each kind are stored."""
    db = Database(url)
    try:
        async with db.uow() as uow:
            rows = await uow.session.execute(
                select(EngagementEvent.kind, func.count()).group_by(EngagementEvent.kind)
            )
            return {kind: int(n) for kind, n in rows}
    finally:
        await db.dispose()


async def _rewind(url: str, seq: int) -> None:
    """Put the kept watermark back at ``seq`` (where it was a save earlier)."""
    db = Database(url)
    try:
        async with db.uow() as uow:
            await uow.session.execute(update(GatewaySession).values(seq=seq))
            await uow.commit()
    finally:
        await db.dispose()
