"""Gateway sessions kept in the database: what a killed process had received is replayed.

Discord has no per-event ack: the heartbeat tells it the last sequence the client *received*,
and a new process used to IDENTIFY a new session, so events a killed process had received and
not yet stored were gone. Here each shard's session (its id and ``resume_gateway_url``) and a
low watermark of its sequence are kept in ``gateway_sessions``: every dispatch with a sequence
up to the watermark has finished its listeners (the tasks discord.py started for it, which wait
for the dispatcher's intake to finish the event) and what they buffered is on disk
(``Feature.written``, kept failures flushed: as the Slack inbox decides "done"). The
watermark is written at most every ``SAVE_EVERY`` seconds and on a clean stop, which closes the
connections with a code that leaves their sessions resumable (not 1000).

A starting process that finds its shard's session RESUMEs it from the watermark at its resume
URL, instead of identifying, and Discord replays every dispatch after it (events the killed
process may have handled already among them: the features' storage is idempotent for them,
keyed by what the event carries, or by :func:`delivery` when it carries no time of its own). A
replayed interaction is not run: the killed process answered it, or its person saw it fail;
running it again could act twice, or unseen.
discord.py's cache is empty in a new process and a RESUME sends no GUILD_CREATE, so the
shard's guilds (channels, roles, members) are read over REST first (:func:`warm`). When the
session cannot be resumed (INVALID_SESSION), discord.py identifies as before and the catch-up
on ready runs (members who joined meanwhile, channel history).

discord.py is hooked in two places: :class:`ResumingWebSocket` (its gateway class, installed
in place of ``DiscordWebSocket`` where the client and the shards make their connections)
resumes the first connection of a shard with a kept session and notes each dispatch it parsed;
the client's ``_schedule_event`` hands the tasks started for a dispatch to :data:`_BATCH`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord.client
import discord.shard
import yarl
from discord.gateway import DiscordWebSocket
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.clock import Clock
from bot.db.models import GatewaySession
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.discord")

SAVE_EVERY = 1.0
"""Seconds between two writes of the watermarks (only when one moved)."""


@dataclass
class Batch:
    """The tasks discord.py started while parsing one gateway frame."""

    replaying: bool
    ws: DiscordWebSocket | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    resumed: bool = False  # the frame was RESUMED: what follows is live
    delivery: str = ""  # "<session id>:<sequence>" of the dispatch (see :func:`delivery`)


_BATCH: ContextVar[Batch | None] = ContextVar("steward_gateway_batch", default=None)


def note_task(task: asyncio.Task[Any], event: str) -> None:
    """A task discord.py started for the frame being parsed (none outside a parse), for the
    handler ``event`` (``on_resumed``...)."""
    batch = _BATCH.get()
    if batch is not None:
        batch.tasks.append(task)
        batch.resumed = batch.resumed or event == "on_resumed"
        ws = batch.ws
        if not batch.delivery and ws is not None and ws.sequence is not None:
            # discord.py took the frame's sequence before parsing it (and the session's id at
            # READY, or from the kept session it resumed).
            batch.delivery = f"{ws.session_id}:{ws.sequence}"


def delivery() -> str:
    """The gateway session and sequence of the dispatch being handled ("" outside one): the
    same when a resumed session replays it, different for every other dispatch (an event
    whose content does not tell two happenings apart is keyed by it)."""
    batch = _BATCH.get()
    return "" if batch is None else batch.delivery


def replayed() -> bool:
    """Whether the event being handled was replayed by a RESUME (sent before RESUMED)."""
    batch = _BATCH.get()
    return batch is not None and batch.replaying


@dataclass(frozen=True)
class Plan:
    """A kept session to resume: its id, where, and from which sequence."""

    session_id: str
    url: str
    seq: int


class Watermark:
    """One shard's session and the highest sequence up to which every dispatch is done."""

    def __init__(
        self, session_id: str, url: str, low: int, moved: Callable[[], None] | None = None
    ) -> None:
        """``moved()`` is called when a dispatch's last task ends and the watermark moves: no
        dispatch may follow it (a quiet guild) to have the move saved."""
        self.session_id, self.url, self.low = session_id, url, low
        self.moved = moved
        self._open: deque[list[int]] = deque()  # [seq, tasks still running], in order

    def add(self, seq: int, tasks: list[asyncio.Task[Any]]) -> None:
        """A dispatch was parsed; it is done when its tasks are."""
        running = [t for t in tasks if not t.done()]
        if not running and not self._open:
            self.low = max(self.low, seq)
            return
        entry = [seq, len(running)]
        self._open.append(entry)
        for task in running:
            task.add_done_callback(functools.partial(self._done, entry))
        self._advance()

    def _done(self, entry: list[int], _task: asyncio.Task[Any]) -> None:
        entry[1] -= 1
        low = self.low
        self._advance()
        if self.low != low and self.moved is not None:
            self.moved()

    def _advance(self) -> None:
        while self._open and self._open[0][1] <= 0:
            self.low = max(self.low, self._open.popleft()[0])


class SessionKeeper:
    """Keeps each shard's session and watermark in the database; hands out the kept ones."""

    def __init__(
        self,
        sessions: Callable[[], UnitOfWork],
        clock: Clock,
        written: Callable[[], Awaitable[bool]],
    ) -> None:
        """``written()``: returns once what listeners handed to buffers of their own is on
        disk; False while something still waits in memory."""
        self.sessions = sessions
        self.clock = clock
        self.written = written
        self.bot_id = ""
        self.shard_count = 1
        self.marks: dict[int, Watermark] = {}
        self._kept: dict[int, tuple[int, Plan]] = {}  # shard -> (shard count, plan)
        self._saved: dict[int, tuple[str, str, int]] = {}
        self._saving: asyncio.Task[None] | None = None
        self._closed = False
        self._said = False
        self.resumed = 0
        """Connections that resumed a kept session (instead of identifying)."""
        self.sockets: dict[int, ResumingWebSocket] = {}  # each shard's latest connection

    def keep_sessions(self) -> None:
        """A clean stop: closing the connections leaves their sessions resumable, so the next
        process resumes them and gets what was sent meanwhile (Discord shows the bot online
        until the session times out, a few minutes, or the next process takes it).

        discord.py closes with 1000. Without sharding its reading loop, woken by the close,
        closes first with 4000 and the 1000 is never sent; the sharded client stops each
        shard's reading loop first, and there the 1000 goes out (and ends the session)."""
        for ws in self.sockets.values():
            ws.keep = True

    async def load(self, bot_id: str, shard_count: int) -> None:
        """Read the bot's kept sessions (once logged in, before connecting)."""
        self.bot_id, self.shard_count = bot_id, shard_count
        try:
            async with self.sessions() as uow:
                rows = await uow.session.scalars(
                    select(GatewaySession).where(GatewaySession.bot_id == bot_id)
                )
                for r in rows:
                    plan = Plan(r.session_id, r.resume_url, r.seq)
                    self._kept[r.shard_id] = (r.shard_count, plan)
                    self._saved[r.shard_id] = (r.session_id, r.resume_url, r.seq)
        except Exception as exc:  # no kept session: identify, as without one
            log.warning("reading the kept gateway sessions failed (%s); identifying", exc)

    def take(self, shard_id: int, shard_count: int) -> Plan | None:
        """The shard's kept session, once (a later connection resumes or identifies as
        discord.py decides); None when there is none or the shards were counted otherwise."""
        kept = self._kept.pop(shard_id, None)
        if kept is None or kept[0] != shard_count:
            return None
        plan = kept[1]
        self.shard_count = shard_count
        self.marks[shard_id] = Watermark(plan.session_id, plan.url, plan.seq, self._soon)
        return plan

    def received(
        self, shard_id: int, session_id: str, url: str, seq: int, tasks: list[asyncio.Task[Any]]
    ) -> None:
        """A dispatch of the shard's session was parsed, starting ``tasks``."""
        mark = self.marks.get(shard_id)
        if mark is None or mark.session_id != session_id:
            mark = self.marks[shard_id] = Watermark(session_id, url, seq - 1, self._soon)
        mark.url = url
        mark.add(seq, tasks)
        self._soon()

    def _soon(self) -> None:
        """Save the watermarks within a second (a save already coming takes the change)."""
        if self._closed:
            return
        if self._saving is None or self._saving.done():
            self._saving = asyncio.create_task(self._save_soon(), name="steward-gateway-session")

    async def _save_soon(self) -> None:
        await asyncio.sleep(SAVE_EVERY)
        await self.save()
        if self._changed():
            self._saving = asyncio.create_task(self._save_soon(), name="steward-gateway-session")

    def _changed(self) -> dict[int, tuple[str, str, int]]:
        now = {s: (m.session_id, m.url, m.low) for s, m in self.marks.items()}
        return {s: v for s, v in now.items() if self._saved.get(s) != v and v[2] > 0}

    async def save(self) -> bool:
        """Write the watermarks that moved, once what was handled up to them is on disk."""
        changed = self._changed()
        if not changed or not self.bot_id:
            return True
        try:
            if not await self.written():
                return False  # a kept failure is still in memory: the next turn
            async with self.sessions() as uow:
                dialect = uow.session.get_bind().dialect.name
                insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
                now = self.clock.now()
                for shard_id, (session_id, url, seq) in changed.items():
                    values = {
                        "shard_count": self.shard_count,
                        "session_id": session_id,
                        "resume_url": url,
                        "seq": seq,
                        "updated_at": now,
                    }
                    statement = insert(GatewaySession).values(
                        bot_id=self.bot_id, shard_id=shard_id, **values
                    )
                    await uow.session.execute(
                        statement.on_conflict_do_update(
                            index_elements=["bot_id", "shard_id"], set_=values
                        )
                    )
                await uow.commit()
        except Exception as exc:
            if not self._said:
                log.warning("keeping the gateway session failed (%s); trying again", exc)
                self._said = True
            return False
        self._said = False
        self._saved.update(changed)
        return True

    async def close(self, within: float = 10.0) -> None:
        """Write the last watermarks (on a clean stop)."""
        self._closed = True
        if self._saving is not None:
            self._saving.cancel()
            with contextlib.suppress(BaseException):
                await self._saving
        with contextlib.suppress(Exception, TimeoutError):
            await asyncio.wait_for(self.save(), within)


async def warm(client: discord.Client, shard_id: int, shard_count: int) -> None:
    """Fill discord.py's cache with the shard's guilds over REST (what READY and GUILD_CREATE
    bring to a new session, and a resumed one never gets): each guild with its channels and
    roles, and its members when the GUILD_MEMBERS intent is on."""
    http = client.http
    state = client._connection
    after: int | None = None
    while True:
        page = await http.get_guilds(200, after=after)
        for partial in page:
            guild_id = int(partial["id"])
            if (guild_id >> 22) % shard_count != shard_id:
                continue
            data: dict[str, Any] = dict(await http.get_guild(guild_id, with_counts=True))
            data["channels"] = await http.get_all_guild_channels(guild_id)
            members: list[Any] = []
            if client.intents.members:
                last: int | None = None
                while True:
                    chunk = await http.get_members(guild_id, 1000, last)
                    members += chunk
                    if len(chunk) < 1000:
                        break
                    last = int(chunk[-1]["user"]["id"])
            data["members"] = members
            data["member_count"] = data.get("approximate_member_count") or len(members)
            state._add_guild_from_data(data)  # type: ignore[arg-type]
        if len(page) < 200:
            return
        after = int(page[-1]["id"])


def replay_joins(state: Any) -> None:
    """Let a replayed GUILD_MEMBER_ADD through (installed in discord.py's parsers by the
    client, ``gateway.StewardBot``).

    discord.py discards a member add for a member already in its cache, and :func:`warm` read
    every member of the guild into the cache before the RESUME, those whose joins it replays
    included: each of those joins was dropped unseen, the watermark went past it, and only the
    catch-up on ready (the latest ``RECENT_JOINS``) could still welcome the member. A replayed
    join now takes its member out of the cache (and the count, which the replay adds again)
    first; a join handled twice is welcomed once (onboarding's storage is idempotent)."""
    parsers: dict[str, Callable[[Any], None]] = state.parsers
    original = parsers["GUILD_MEMBER_ADD"]
    if getattr(original, "steward_replays", False):
        return

    def parse(data: Any) -> None:
        if replayed():
            guild = state._get_guild(int(data["guild_id"]))
            member = guild.get_member(int(data["user"]["id"])) if guild is not None else None
            if member is not None:
                guild._remove_member(member)
                if guild._member_count is not None:
                    guild._member_count -= 1
        original(data)

    parse.steward_replays = True  # type: ignore[attr-defined]
    parsers["GUILD_MEMBER_ADD"] = parse


class ResumingWebSocket(DiscordWebSocket):
    """discord.py's gateway connection, resuming a kept session on a shard's first connection
    and noting each dispatch it parsed with the tasks it started."""

    keeper: SessionKeeper | None = None
    replaying = False
    keep = False
    """Closing keeps the session resumable (a clean stop: the next process resumes it)."""

    @classmethod
    async def from_client(  # type: ignore[override]
        cls,
        client: discord.Client,
        *,
        resume: bool = False,
        shard_id: int | None = None,
        **params: Any,
    ) -> DiscordWebSocket:
        keeper: SessionKeeper | None = getattr(client, "keeper", None)
        if keeper is None:
            return await super().from_client(client, resume=resume, shard_id=shard_id, **params)
        plan = None
        if not resume:
            count = client.shard_count or 1
            plan = keeper.take(shard_id or 0, count)
        if plan is not None:
            try:
                await warm(client, shard_id or 0, client.shard_count or 1)
            except Exception as exc:  # identify instead: a new session fills the cache
                log.warning("reading the guilds to resume the gateway session failed: %s", exc)
                keeper.marks.pop(shard_id or 0, None)
                plan = None
        ws: DiscordWebSocket | None = None
        if plan is not None:
            log.info("resuming gateway session %s of shard %s", plan.session_id, shard_id or 0)
            kept = {"gateway": yarl.URL(plan.url), "session": plan.session_id, "sequence": plan.seq}
            try:
                ws = await super().from_client(
                    client, resume=True, shard_id=shard_id, **(params | kept)
                )
            except (OSError, aiohttp.ClientError, TimeoutError) as exc:
                # The kept resume address does not answer (gone, or another gateway's): a
                # new session, and the catch-up on ready. discord.py's own retry would need a
                # connection it never had.
                log.warning(
                    "the gateway session of shard %s could not be resumed (%s): identifying",
                    shard_id or 0,
                    type(exc).__name__,
                )
                keeper.marks.pop(shard_id or 0, None)
            else:
                keeper.resumed += 1
        if ws is None:
            ws = await super().from_client(client, resume=resume, shard_id=shard_id, **params)
        assert isinstance(ws, ResumingWebSocket)
        ws.keeper = keeper
        keeper.sockets[shard_id or 0] = ws
        return ws

    async def close(self, code: int = 4000) -> None:
        """Close; on a clean stop with a code other than 1000 or 1001, which would end the
        session (Discord keeps one closed otherwise for a few minutes)."""
        if self.keep and code in (1000, 1001):
            code = 4000
        await super().close(code)

    async def resume(self) -> None:
        """Send RESUME: the dispatches until RESUMED are replays."""
        self.replaying = True
        await super().resume()

    async def received_message(self, msg: Any, /) -> None:
        """Parse a frame as discord.py does; a dispatch's sequence and tasks go to the keeper."""
        keeper = self.keeper
        if keeper is None:
            await super().received_message(msg)
            return
        before = self.sequence
        batch = Batch(self.replaying, self)
        token = _BATCH.set(batch)
        try:
            await super().received_message(msg)
        finally:
            _BATCH.reset(token)
        if batch.resumed:
            self.replaying = False
        seq = self.sequence
        if seq is not None and seq != before and self.session_id is not None:
            keeper.received(
                self.shard_id or 0, self.session_id, str(self.gateway), seq, batch.tasks
            )


# Where discord.py opens the gateway connections (a client's, and each shard's).
discord.client.DiscordWebSocket = ResumingWebSocket  # type: ignore[misc]
discord.shard.DiscordWebSocket = ResumingWebSocket  # type: ignore[misc]
