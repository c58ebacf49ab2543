"""Steward killed with SIGKILL at random moments while members join, post, react and run commands.

``python -m bench.kill_matrix [--platform discord|slack] [--database sqlite|postgres]
[--kills 50] [--max-alive 2] [--rate 8] [--seed 20]``

A real ``python -m bot run`` process (onboarding and engagement on) serves a fake in this process.
A manager sets the welcome channel with ``/steward settings set``; then the fake drives a mixed
workload: newcomers join (a public welcome and a welcome DM each, through the outbox), members
post and react (engagement stores each), and a manager rewrites a setting with
``/steward settings set steward quiet_start HH:MM`` (each write a new time). The process is
killed after a random 0 to ``--max-alive`` seconds and started again on the same database,
``--kills`` times, the workload running on throughout (also while no process runs); a last
process finishes the work. Then, per platform and database:

* acked ⊆ stored. What "acked" means differs, and the table says which:
  Slack: an event is acked when the fake got the Socket Mode ack for its envelope (Slack retries
  an unacked event 3 times, here 1, 3 and 6 s apart instead of 0 s, 1 min and 5 min, so that
  a redelivery can meet the next process). Discord has no per-event ack: the client's
  heartbeat carries the last sequence it *received* (the fake's interval is shortened to 1 s so
  there are heartbeats between kills). An event counts as acked on Discord when a heartbeat of
  its session carried its sequence or a later one. A slash command is acked on both when the
  person saw its answer ("... is now ...").
  How Steward keeps acked ⊆ stored: Slack's ack goes out only once the event's inbox row is
  committed, and a new process handles the rows a killed one left (``bot.core.inbox``).
  Discord: each shard's gateway session and the last sequence up to which every event was
  handled and stored are kept in the database (``bot.adapters.discord.resume``); a new process
  RESUMEs that session from that sequence at its resume URL, and the fake, as Discord, replays
  every dispatch after it, those sent while no process ran included (a replayed slash command
  is not run again: the killed process answered it, or its person saw it fail). When the
  session can no longer be resumed (INVALID_SESSION), the process identifies anew and catches
  up on ready: onboarding welcomes the members who joined since it was last ready, engagement
  reads each channel's history after its last stored message (messages, and the reactions on
  them).
  Stored: the newcomer recorded by onboarding, the message and the reaction recorded by
  engagement, the setting's value (the last acked write or a later one).
* not acked, not stored: events that never reached a process (reported, not a failure).
* delivered = outbox: every outbox row ``sent`` and the message it recorded is in the fake; every
  welcome the fake holds is a row's; every newcomer onboarding recorded has one public welcome
  and one welcome DM; duplicates (more than one of either) are counted.
* SQLite: ``PRAGMA integrity_check`` is ``ok``; both databases: every foreign key of the schema
  (read from the metadata) holds, counted by an anti-join per key ("orphans").

Exit 1 when something acked is not stored, a delivery is missing or doubled (Discord; Slack's
duplicates are counted and reported), the file is damaged or a row is orphaned.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FEATURES = "onboarding,engagement"


@dataclass
class Tally:
    """What the kills came to on one platform and database."""

    platform: str
    database: str
    kills: int = 0
    joins: int = 0
    posts: int = 0
    reactions: int = 0
    commands: int = 0
    acked: int = 0
    acked_not_stored: int = 0
    unacked_lost: int = 0  # never acked and not stored (never reached a running process)
    outbox: int = 0
    undelivered: int = 0  # rows not sent, or sent with a message the fake does not hold
    unrecorded: int = 0  # welcomes the fake holds that no row recorded
    welcomes_missing: int = 0
    duplicates: int = 0
    integrity: str = "-"
    orphans: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        """Whether anything was lost, damaged or (on Discord) doubled."""
        return bool(
            self.acked_not_stored
            or self.undelivered
            or self.unrecorded
            or self.welcomes_missing
            or self.orphans
            or self.integrity not in ("ok", "-")
            or (self.duplicates and self.platform == "discord")
        )


@dataclass
class Action:
    """One thing the workload did, and what is needed to tell whether it was acked and stored."""

    kind: str  # join | post | react | command
    key: str  # user id (join), message id (post), "message id:user id" (react), value (command)
    acked: bool = False
    session: str | None = None  # Discord: the gateway session and sequence it was sent as
    seq: int | None = None


class Workload:
    """Drives joins, posts, reactions and setting writes against one fake."""

    def __init__(self, side: Any, rng: random.Random, rate: float) -> None:
        self.side, self.rng, self.rate = side, rng, rate
        self.actions: list[Action] = []
        self.messages: list[Any] = []
        self.members: list[Any] = list(side.regulars)
        self.tasks: set[asyncio.Task[None]] = set()
        self.minute = 0
        self.command_lock = asyncio.Lock()
        self.weights = {"join": 3, "post": 5, "react": 2, "command": 1}
        """How often each kind of action comes, relative to the others."""

    async def run(self, stop: asyncio.Event) -> None:
        """Act at about ``rate`` actions a second until ``stop``; each action runs on its own."""
        n = 0
        while not stop.is_set():
            kinds = list(self.weights)
            kind = self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]
            if kind == "react" and not self.messages:
                kind = "post"
            n += 1
            task = asyncio.create_task(self._one(kind, n))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.rng.expovariate(self.rate))

    async def finish(self) -> None:
        """Wait for the actions in flight (Slack's retries included)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _one(self, kind: str, n: int) -> None:
        # Slack's fake waits for every delivery in flight after a join or a reaction, which may
        # take longer than it cares to wait while no process runs: the deliveries go on.
        with contextlib.suppress(TimeoutError):
            await self._act(kind, n)

    async def _act(self, kind: str, n: int) -> None:
        side = self.side
        if kind == "join":
            await side.join(self, f"guest{n}")
        elif kind == "post":
            author = self.rng.choice(self.members)
            await side.post(self, author, f"message {n}")
        elif kind == "react":
            message = self.rng.choice(self.messages[-50:])
            await side.react(self, self.rng.choice(self.members), message)
        else:
            async with self.command_lock:  # writes in order: the last acked one must be stored
                self.minute += 1  # a time not written before (1,440 of them)
                value = f"{self.minute // 60 % 24:02d}:{self.minute % 60:02d}"
                action = Action("command", value)
                self.actions.append(action)
                action.acked = await side.set_setting("steward", "quiet_start", value)


class DiscordSide:
    """The workload's moves on the fake Discord."""

    platform = "discord"

    def __init__(self, fake: Any, guild: Any, people: dict[str, Any]) -> None:
        self.fake, self.guild = fake, guild
        self.ada = people["ada"].account
        self.regulars = [p.account for name, p in people.items() if name != "ada"]
        self.general = guild.channel_named("general")
        self.welcome = guild.channel_named("welcome")
        self.heartbeats: list[tuple[str, int]] = []  # (session id, sequence) heartbeated
        self._cursor = 0

    def env(self) -> dict[str, str]:
        return {
            "STEWARD_DISCORD_TOKEN": self.fake.token,
            "STEWARD_DISCORD_API_BASE": self.fake.api_base,
            "STEWARD_DISCORD_GATEWAY_URL": self.fake.gateway_url,
        }

    def _sent(self, action: Action) -> None:
        s = self.fake.gateway.session
        if s is not None:
            action.session, action.seq = s.id, s.seq

    async def join(self, w: Workload, name: str) -> None:
        user = self.fake.add_user(name)
        await self.fake.member_joins(self.guild, user)
        action = Action("join", user.id)
        self._sent(action)
        w.actions.append(action)
        w.members.append(user)

    async def post(self, w: Workload, author: Any, text: str) -> None:
        message = await self.fake.user_says(author, self.general, text)
        action = Action("post", message.id)
        self._sent(action)
        w.actions.append(action)
        w.messages.append(message)

    async def react(self, w: Workload, user: Any, message: Any) -> None:
        if any(user.id in r.users for r in message.reactions):
            return
        await self.fake.react(user, message, "👍")
        action = Action("react", f"{message.id}:{user.id}")
        self._sent(action)
        w.actions.append(action)

    async def set_setting(self, feature: str, key: str, value: str) -> bool:
        try:
            result = await self.fake.invoke_slash(
                self.ada,
                self.general,
                "steward settings set",
                feature=feature,
                key=key,
                value=value,
            )
            await result.wait(10)
        except Exception:  # no process to answer: the interaction fails, as Discord shows it
            return False
        return "is now" in result.text

    async def settle(self, within: float) -> None:
        """Nothing to wait for: Discord dispatches without waiting for an answer."""
        del within

    async def caught_up(self, url: str) -> bool:
        """Whether the last process has handled and stored every dispatch of its session (the
        replay of what killed processes left included): its kept sequence is the fake's last."""
        from sqlalchemy import select

        from bot.db.engine import Database
        from bot.db.models import GatewaySession

        s = self.fake.gateway.session
        if s is None:
            return True
        db = Database(url)
        try:
            async with db.uow() as uow:
                kept = await uow.session.scalar(
                    select(GatewaySession.seq).where(GatewaySession.session_id == s.id)
                )
        finally:
            await db.dispose()
        return kept is not None and kept >= s.seq

    def watch(self) -> None:
        """Attribute new heartbeats to the session live now (a killed process sends none)."""
        frames = self.fake.gateway.client_frames
        s = self.fake.gateway.session
        for frame in frames[self._cursor :]:
            if frame.op == 1 and isinstance(frame.d, int) and s is not None:
                self.heartbeats.append((s.id, frame.d))
        self._cursor = len(frames)

    def acked(self, actions: list[Action]) -> None:
        best: dict[str, int] = {}
        for session, seq in self.heartbeats:
            best[session] = max(best.get(session, 0), seq)
        for a in actions:
            if a.kind != "command" and a.session is not None and a.seq is not None:
                a.acked = best.get(a.session, 0) >= a.seq

    def welcomes(self, newcomers: list[str]) -> tuple[Counter[str], Counter[str], set[str]]:
        """Public welcomes and welcome DMs per user id, and the ids of every welcome held."""
        public: Counter[str] = Counter()
        dms: Counter[str] = Counter()
        held: set[str] = set()
        for m in self.fake.messages_in(self.welcome):
            if m.author["id"] == self.fake.bot.id:
                held.add(m.id)
                public.update({u["id"] if isinstance(u, dict) else u for u in m.mentions})
        for uid in newcomers:
            user = self.fake.world.users[uid]
            for m in self.fake.dms_of(user):
                if m.author["id"] == self.fake.bot.id:
                    held.add(m.id)
                    dms[uid] += 1
        return public, dms, held


class SlackSide:
    """The workload's moves on the fake Slack."""

    platform = "slack"

    def __init__(self, fake: Any, channels: dict[str, Any], people: dict[str, Any]) -> None:
        self.fake, self.channels = fake, channels
        self.ada = people["ada"].account
        self.regulars = [p.account for name, p in people.items() if name != "ada"]

    def env(self) -> dict[str, str]:
        return {
            "STEWARD_SLACK_BOT_TOKEN": self.fake.bot_token,
            "STEWARD_SLACK_APP_TOKEN": self.fake.app_token,
            "STEWARD_SLACK_API_BASE": self.fake.api_url,
        }

    async def join(self, w: Workload, name: str) -> None:
        action = Action("join", "")
        w.actions.append(action)
        user = await self.fake.member_joins(name, settle=False)
        action.key = user.id  # known before the wait below, which may run out (then it's lost)
        w.members.append(user)
        await self.fake.settle()

    async def post(self, w: Workload, author: Any, text: str) -> None:
        general = self.channels["general"]
        if author.id not in general.members:
            return
        action = Action("post", "")
        w.actions.append(action)
        message = await self.fake.user_says(author, general, text)
        action.key = message.ts
        w.messages.append(message)

    async def react(self, w: Workload, user: Any, message: Any) -> None:
        key = f"{message.ts}:{user.id}"
        if any(a.key == key for a in w.actions):
            return
        w.actions.append(Action("react", key))
        await self.fake.react(user, message, "thumbsup")

    async def set_setting(self, feature: str, key: str, value: str) -> bool:
        outcome = await self.fake.slash(
            self.ada, "/steward", f"settings set {feature} {key} {value}"
        )
        await asyncio.sleep(0.3)  # the answer may come by response_url after the ack
        return any("is now" in s.text for s in outcome.shown)

    def watch(self) -> None:
        pass

    async def settle(self, within: float) -> None:
        """Wait for every delivery in flight (retries included)."""
        await self.fake.settle(within)

    async def caught_up(self, url: str) -> bool:
        """Every stored event handled is told by the inbox (below)."""
        del url
        return True

    def acked(self, actions: list[Action]) -> None:
        """An event is acked when some attempt at its envelope got the ack in time."""
        ok: set[str] = set()
        for d in self.fake.deliveries:
            if d.kind != "event" or not d.ok:
                continue
            ev = d.payload.get("event", {})
            if ev.get("type") == "team_join":
                ok.add(ev["user"]["id"])
            elif ev.get("type") == "message" and "subtype" not in ev:
                ok.add(ev["ts"])
            elif ev.get("type") == "reaction_added":
                ok.add(f"{ev['item']['ts']}:{ev['user']}")
        for a in actions:
            if a.kind != "command":
                a.acked = a.key in ok

    def welcomes(self, newcomers: list[str]) -> tuple[Counter[str], Counter[str], set[str]]:
        """Public welcomes and welcome DMs per user id, and the ts of every welcome held."""
        public: Counter[str] = Counter()
        dms: Counter[str] = Counter()
        held: set[str] = set()
        for m in self.fake.messages_in(self.channels["welcome"].id):
            if m.via == "api":  # Steward's, not the "has joined the channel" notices
                held.add(m.ts)
                public.update(u for u in newcomers if f"<@{u}>" in m.text)
        for uid in newcomers:
            for m in self.fake.dms_of(uid):
                if m.via == "api":
                    held.add(m.ts)
                    dms[uid] += 1
        return public, dms, held


async def _stored(url: str) -> dict[str, Any]:
    """What Steward recorded: members, messages, reactions, the setting, the outbox."""
    from sqlalchemy import func, select

    from bot.db.engine import Database
    from bot.db.models import CommunitySetting, InboxEvent, OutboxItem
    from cogs.engagement._models import EngagementEvent
    from cogs.onboarding._models import OnboardingMember

    db = Database(url)
    try:
        async with db.uow() as uow:
            s = uow.session
            # Newcomers only: a member whose join was lost gets a row too when they first post
            # (``newcomer`` False), and that row is not their join stored.
            members = set(
                await s.scalars(
                    select(OnboardingMember.user_id).where(OnboardingMember.newcomer.is_(True))
                )
            )
            events = (await s.execute(select(EngagementEvent.kind, EngagementEvent.key))).all()
            steward = await s.scalar(
                select(CommunitySetting.data).where(CommunitySetting.feature == "steward")
            )
            rows = list(await s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
            inbox = int(await s.scalar(select(func.count()).select_from(InboxEvent)) or 0)
            s.expunge_all()
    finally:
        await db.dispose()
    messages = {k.rpartition(":")[2] for kind, k in events if kind == "message"}
    reactions = set()
    for kind, k in events:
        if kind == "reaction":  # r:<message key>:<user>:<emoji>
            parts = k.split(":")
            reactions.add(f"{parts[-3]}:{parts[-2]}")
    return {
        "members": members,
        "messages": messages,
        "reactions": reactions,
        "quiet_start": (steward or {}).get("quiet_start"),
        "rows": rows,
        "inbox": inbox,
    }


async def _orphans(url: str) -> tuple[int, list[str]]:
    """Rows whose foreign key points nowhere, counted per key from the schema's metadata."""
    from sqlalchemy import and_, exists, func, select

    from bot.db.base import Base
    from bot.db.engine import Database
    from bot.features import load

    load(["all"])  # every feature's models join the metadata
    total, where = 0, []
    db = Database(url)
    try:
        async with db.uow() as uow:
            for table in Base.metadata.sorted_tables:
                for fk in table.foreign_key_constraints:
                    parent = fk.referred_table
                    pairs = [(e.parent, e.column) for e in fk.elements]
                    present = and_(*(c.is_not(None) for c, _ in pairs))
                    match = and_(*(c == p for c, p in pairs))
                    query = (
                        select(func.count())
                        .select_from(table)
                        .where(present, ~exists(select(1).select_from(parent).where(match)))
                    )
                    n = int(await uow.session.scalar(query) or 0)
                    if n:
                        where.append(f"{table.name}->{parent.name}: {n}")
                    total += n
    finally:
        await db.dispose()
    return total, where


def _integrity(url: str) -> str:
    import sqlite3

    path = url.split("///", 1)[1]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return ", ".join(str(r[0]) for r in rows)


async def _wait(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.perf_counter() + within
    while not await check():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def _configure(side: Any, welcome_id: str) -> None:
    """The manager sets the welcome channel (retrying while the commands are being synced)."""
    mention = f"<#{welcome_id}>" if side.platform == "discord" else f"<#{welcome_id}|welcome>"
    for _ in range(60):
        if await side.set_setting("onboarding", "welcome_channel", mention):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the welcome channel could not be set")


async def _run(args: argparse.Namespace, side: Any, url: str, tally: Tally, tmp: str) -> None:
    from bot.db.schema import upgrade
    from sandbox.process import start_steward

    await upgrade(url)
    env = {"STEWARD_DATABASE_URL": url, "STEWARD_FEATURES": FEATURES, **side.env()}
    log = Path(tmp) / f"steward-{tally.platform}-{tally.database}.log"
    rng = random.Random(args.seed)
    started = time.perf_counter()
    process = await start_steward(env, log)
    welcome = side.welcome if side.platform == "discord" else side.channels["welcome"]
    await _configure(side, welcome.id)
    workload = Workload(side, rng, args.rate)
    stop = asyncio.Event()
    driving = asyncio.create_task(workload.run(stop))

    async def watch() -> None:
        while True:
            side.watch()
            await asyncio.sleep(0.05)

    watching = asyncio.create_task(watch())
    try:
        for _ in range(args.kills):
            await asyncio.sleep(rng.uniform(0, args.max_alive))
            process.kill()
            await process.wait()
            tally.kills += 1
            process = await start_steward(env, log)
        stop.set()
        await driving
        await workload.finish()  # the last process answers what is still in flight
        await side.settle(args.finish_within)

        async def drained() -> bool:
            stored = await _stored(url)
            pending = any(r.status == "pending" for r in stored["rows"])
            # Slack: every stored event handled; Discord: every dispatch handled and stored.
            return not pending and not stored["inbox"] and await side.caught_up(url)

        await _wait(drained, args.finish_within)
        await asyncio.sleep(2.0)  # time for a wrong second post to land
        side.watch()
    finally:
        watching.cancel()
        process.terminate()
        await process.wait()
    tally.seconds = time.perf_counter() - started
    _check(side, workload.actions, await _stored(url), tally)
    if tally.database == "sqlite":
        tally.integrity = _integrity(url)
    tally.orphans, where = await _orphans(url)
    tally.problems += where


def _check(side: Any, actions: list[Action], stored: dict[str, Any], tally: Tally) -> None:
    side.acked(actions)
    sets = {"join": "members", "post": "messages", "react": "reactions"}
    for a in actions:
        if a.kind == "command":
            continue
        counter = {"join": "joins", "post": "posts", "react": "reactions"}[a.kind]
        setattr(tally, counter, getattr(tally, counter) + 1)
        present = a.key in stored[sets[a.kind]]
        tally.acked += a.acked
        if a.acked and not present:
            tally.acked_not_stored += 1
            tally.problems.append(f"acked {a.kind} {a.key} not stored")
        tally.unacked_lost += not a.acked and not present
    commands = [a for a in actions if a.kind == "command"]
    tally.commands = len(commands)
    tally.acked += sum(a.acked for a in commands)
    acked_values = [i for i, a in enumerate(commands) if a.acked]
    if acked_values:
        values = [a.key for a in commands]
        kept = str(stored["quiet_start"])[:5]  # stored as HH:MM:SS
        at = values.index(kept) if kept in values else -1
        if at < acked_values[-1]:
            tally.acked_not_stored += 1
            tally.problems.append(
                f"setting: {stored['quiet_start']} stored, {values[acked_values[-1]]} acked later"
            )
    rows = stored["rows"]
    tally.outbox = len(rows)
    newcomers = [a.key for a in actions if a.kind == "join" and a.key in stored["members"]]
    public, dms, held = side.welcomes(newcomers)
    recorded = {r.message_id for r in rows if r.status == "sent"}
    undelivered = [r for r in rows if r.status != "sent" or r.message_id not in held]
    tally.undelivered = len(undelivered)
    tally.problems += [
        f"row {r.idempotency_key}: {r.status}, {r.attempts} tries, {r.last_error or 'no error'}"
        for r in undelivered
    ]
    tally.unrecorded = len(held - recorded)
    for uid in newcomers:
        tally.welcomes_missing += (public[uid] == 0) + (dms[uid] == 0)
        if public[uid] != 1 or dms[uid] != 1:
            queued = sum(uid in str(r.idempotency_key) for r in rows)
            tally.problems.append(
                f"newcomer {uid}: {public[uid]} public, {dms[uid]} DM, {queued} rows keyed so"
            )
        tally.duplicates += max(public[uid] - 1, 0) + max(dms[uid] - 1, 0)


async def one(
    args: argparse.Namespace, platform: str, database: str, tmp: str, url: str | None = None
) -> Tally | None:
    """One platform on one database (``url``, else a fresh one); None when PostgreSQL is not
    there."""
    from bench._common import drop_pg_database, fresh_pg_database

    made = ""
    if url is None and database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/{platform}.db"
    elif url is None:
        # One database per run (two runs at once must not drop each other's), dropped after.
        made = f"bench_kill_matrix_{platform}_{os.getpid()}"
        url = await fresh_pg_database(made)
    if url is None:
        return None
    try:
        return await _one(args, platform, database, tmp, url)
    finally:
        if made:
            with contextlib.suppress(Exception):
                await drop_pg_database(made)


async def _one(args: Any, platform: str, database: str, tmp: str, url: str) -> Tally:
    from sandbox.scenario._open import _seed_discord, _seed_slack

    tally = Tally(platform, database)
    if platform == "discord":
        from sandbox.discord import FakeDiscord

        async with FakeDiscord(validate=not args.no_validate) as fake:
            # A heartbeat a second (Discord's is ~41 s), so that there are acks between kills.
            fake.gateway.heartbeat_interval_ms = 1000
            guild, people, _settings = _seed_discord(fake)
            await _run(args, DiscordSide(fake, guild, people), url, tally, tmp)
            tally.problems += [str(v) for v in fake.violations[:5]]
    else:
        from sandbox.slack import FakeSlack

        retries = (1.0, 3.0, 6.0)  # Slack's are 0 s, 1 min, 5 min: shortened, same shape
        async with FakeSlack(
            validate=not args.no_validate, retry_delays=retries, connect_timeout=3.0
        ) as fake:
            channels, people, _settings = _seed_slack(fake)
            await _run(args, SlackSide(fake, channels, people), url, tally, tmp)
            tally.problems += [str(v) for v in fake.violations[:5]]
    return tally


FIELDS = [
    ("platform", "platform"),
    ("database", "database"),
    ("kills", "kills"),
    ("joins", "joins"),
    ("posts", "posts"),
    ("reacts", "reactions"),
    ("cmds", "commands"),
    ("acked", "acked"),
    ("acked∖stored", "acked_not_stored"),
    ("unacked lost", "unacked_lost"),
    ("outbox", "outbox"),
    ("undelivered", "undelivered"),
    ("unrecorded", "unrecorded"),
    ("welcome missing", "welcomes_missing"),
    ("duplicates", "duplicates"),
    ("integrity", "integrity"),
    ("orphans", "orphans"),
    ("seconds", "seconds"),
]


def render(tallies: list[Tally]) -> str:
    """The table, one line per platform and database."""
    from bench._common import table

    rows = []
    for t in tallies:
        cells = []
        for _, attr in FIELDS:
            value = getattr(t, attr)
            cells.append(f"{value:.0f}" if isinstance(value, float) else str(value))
        rows.append(cells)
    return table([name for name, _ in FIELDS], rows)


async def _main(args: argparse.Namespace) -> int:
    os.environ["STEWARD_PLATFORM_SPEED"] = str(args.speed)  # the fakes and the processes
    tallies = []
    with tempfile.TemporaryDirectory(prefix="steward-kills-") as tmp:
        for database in args.database or ["sqlite", "postgres"]:
            for platform in args.platform or ["discord", "slack"]:
                tally = await one(args, platform, database, tmp)
                if tally is None:
                    print(f"{database}: no server answers; left out")
                    continue
                tallies.append(tally)
    print(render(tallies))
    for t in tallies:
        shown: Counter[str] = Counter()
        for problem in t.problems:
            kind = " ".join(w for w in problem.split()[:2] if not any(c.isdigit() for c in w))
            shown[kind] += 1
            if shown[kind] <= 3:
                print(f"{t.platform}/{t.database}: {problem}")
        for kind, n in shown.items():
            if n > 3:
                print(f"{t.platform}/{t.database}: ... {n} in all of {kind!r}")
    return 1 if any(t.bad for t in tallies) else 0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.kill_matrix")
    p.add_argument("--platform", action="append", choices=["discord", "slack"])
    p.add_argument("--database", action="append", choices=["sqlite", "postgres"])
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--max-alive", type=float, default=2.0, help="seconds before a kill")
    p.add_argument("--rate", type=float, default=8.0, help="actions a second")
    p.add_argument("--speed", type=float, default=10.0, help="platform limits run this fast")
    p.add_argument("--seed", type=int, default=20)
    p.add_argument("--finish-within", type=float, default=300, help="seconds the last one gets")
    p.add_argument("--no-validate", action="store_true", help="skip the spec checks")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the kills and print the table; exit 1 if anything acked was lost, doubled or damaged."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
