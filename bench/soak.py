"""A long run under faults: ``python -m bench.soak [--minutes 20] [--platform discord|slack]
[--database sqlite|postgres] [--fault-every 120] [--seed 21]``.

A real ``python -m bot run`` process (announcements, onboarding and engagement on) serves a fake
platform in this process. Its relay follows 200 feed routes on a loopback feed server
(sandbox/feeds.py) that publishes a new item every ``--publish-every`` seconds in a random feed;
every feed is checked each minute (``/announcements set <feed> every:1m``, with
``STEWARD_FEEDS_MIN_INTERVAL=60``). A community follows at most 100 feeds, so on Discord two
guilds follow 100 feeds each (50 per channel, two channels a guild: 200 feeds, 200 routes); on
Slack, where Steward serves one workspace, 100 feeds each go to two channels (200 routes). The
workload of bench/kill_matrix.py emits one event a second on average (newcomers join, members
post and react; no commands). Every ``--fault-every`` seconds a fault drawn at random (seeded,
printed; each kind once in every round of four, in a random order) strikes:

* ``kill``: SIGKILL, and a new process started on the same database;
* ``database``: the database away for ``--outage`` seconds (SQLite locked by another connection,
  PostgreSQL reset and refused by the loopback proxy, sandbox/tcpproxy.py);
* ``storm``: the platform refuses the next requests (Discord: a bucket, global or shared 429,
  Cloudflare's ban, 502, 500; Slack: 429 with Retry-After, 503);
* ``gateway``: Discord drops the TCP connection, sends RECONNECT (op 7), INVALID_SESSION (op 9,
  resumable or not) or goes zombie (no heartbeat ACK); Slack sends a Socket Mode ``disconnect``
  or drops the connection with the next envelopes.

Then publishing and the workload stop, the last process finishes, and:

* feeds: every item published after its feed's baseline is in each channel it routes to exactly
  once ("missing", "doubled"), and no item of a baseline was posted ("old posted");
* events: acked ⊆ stored, as bench/kill_matrix.py defines "acked" (Discord: a heartbeat of the
  event's session carried its sequence or a later one; Slack: the Socket Mode ack of some
  attempt at its envelope); events never acked and not stored are reported, not failures;
* newcomers: one public welcome and one welcome DM each (the outbox rows of onboarding);
* counted: the messages engagement rolled up per member and day equal its stored messages;
* memory: the RSS of each Steward process, and of the engagement writer process it starts beside
  itself (``python -m bot.writer``), is sampled every ``--sample-every`` seconds (psutil if
  installed, else /proc); growth is the least-squares slope of RSS, in MB an hour, over the
  samples of the process watched longest after its first ``--warmup`` seconds under the
  workload (counted from the later of its start and the workload's: the first process idles
  through the set-up and warms up when the workload begins) and before the workload stopped,
  judged for Steward's and for the writer's apart (a killed process's
  successor starts from scratch, so growth is measured per process lifetime, never across a
  kill). The slopes of the window's two halves are shown too: a leak keeps its slope, caches
  filling and the allocator settling slow down. A window shorter than ``--judge-at-least``
  minutes (15) is shown and not judged: a few minutes after a start measure the warm-up, and no
  hourly rate follows from them (with kills every 8 minutes no process lives that long:
  ``--kinds database,storm,gateway`` keeps one process under faults);
* file descriptors: back at rest after the faults. The fewest open (the database's left out) in
  the stretches between faults (from 45 s after one to the next, in pieces of at most 5 minutes)
  of the last 5 minutes is within 5 of the fewest before the first fault: connections opened and
  closed again do not move it, a leaked fd stays to the end. The database's own (SQLite's files,
  PostgreSQL's sockets) are bounded by the pool instead: SQLite keeps a closed connection's
  database file open for reuse while other connections hold locks on it, so after an outage
  they stay at the most connections the pool opened (at most size + overflow).

Exit 1 when an item is missing or doubled, an acked event is not stored, a welcome is missing
or doubled, the counts disagree, Steward's or the writer's RSS grows by 20 MB an hour or more
(when judged), the fewest open fds at the end exceed those before the faults by more than 5, or
the database's exceed what its pool allows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FEATURES = "announcements,onboarding,engagement"
PER_COMMUNITY = 100  # MAX_FEEDS: the most feeds one community follows
KEEP_ITEMS = 20
MB = 1024 * 1024
SETTLE = 45.0
"""Seconds after a fault ends before the open fds are expected back at rest (the catch-up after
it done: after a 60 s SQLite outage on a loaded machine the extra connections were closed within
about 55 s, and the sockets of the postponed feed polls came and went within a minute)."""
STRETCH = 300.0
"""The longest stretch whose fewest open fds is one rest level."""
FD_SLACK = 5
"""How many more fds than before the first fault may be open at rest at the end."""


# ---------------------------------------------------------------- the feeds


@dataclass
class Feed:
    """One feed on the server: its items (newest first) and the channels its items go to."""

    n: int
    path: str
    channels: list[Any] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)  # (key, RFC 2822 date)
    baseline: set[str] = field(default_factory=set)
    published: list[str] = field(default_factory=list)  # keys published after the baseline


class Publisher:
    """The feed server's 200 feeds; publishes a new item in a random one now and then."""

    def __init__(self, server: Any, feeds: int, rng: random.Random) -> None:
        self.server, self.rng = server, rng
        self.feeds = [Feed(n, f"/f/{n}.xml") for n in range(feeds)]
        self.counter = 0
        for feed in self.feeds:
            for _ in range(3):
                self._add(feed)

    def url(self, feed: Feed) -> str:
        """The feed's address."""
        return str(self.server.url(feed.path))

    def _add(self, feed: Feed) -> str:
        self.counter += 1
        key = f"f{feed.n}-i{self.counter}"
        feed.items.insert(0, (key, formatdate(usegmt=True)))
        del feed.items[KEEP_ITEMS:]
        entries = "".join(
            f"<item><guid>https://example.org/s/{k}.html</guid><title>Item {k}</title>"
            f"<link>https://example.org/s/{k}.html</link><pubDate>{date}</pubDate>"
            f"<description>News number {k}.</description></item>"
            for k, date in feed.items
        )
        body = f"<rss version='2.0'><channel><title>Feed {feed.n}</title>{entries}</channel></rss>"
        self.server.put(feed.path, body.encode(), "application/rss+xml")
        return key

    def opml(self, feeds: list[Feed], path: str) -> str:
        """An OPML file listing ``feeds``; returns its address."""
        outlines = "".join(
            f"<outline type='rss' text='Feed {f.n}' xmlUrl='{self.url(f)}'/>" for f in feeds
        )
        body = f"<opml version='2.0'><head><title>Soak</title></head><body>{outlines}</body></opml>"
        return str(self.server.put(path, body.encode(), "text/x-opml"))

    def settled(self) -> bool:
        """Whether every feed has been fetched three times (the import's fetch, the poll that
        stored its baseline, and a poll after it): what it holds now is its baseline."""
        return all(self.server.requests[f.path] >= 3 for f in self.feeds)

    def baseline(self) -> None:
        """Remember what each feed holds: none of it may be posted."""
        for feed in self.feeds:
            feed.baseline = {k for k, _ in feed.items}

    def publish(self) -> None:
        """A new item in a random feed."""
        feed = self.rng.choice(self.feeds)
        feed.published.append(self._add(feed))


# ---------------------------------------------------------------- the process and its samples


@dataclass
class Sample:
    """One look at a Steward process."""

    pid: int
    at: float
    rss: int
    fds: int
    db_fds: int = 0
    """Of ``fds``, those on the database: SQLite's files (the database, its -wal and -shm,
    Steward's lock file beside it) or TCP connections to PostgreSQL's port."""


def sample(
    pid: int, on_database: Callable[[int], int] | None = None
) -> tuple[int, int, int] | None:
    """(RSS bytes, open fds, of those the database's) of a process, or None once it is gone."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        psutil = None
    try:
        if psutil is not None:
            p = psutil.Process(pid)
            rss, fds = int(p.memory_info().rss), int(p.num_fds())
        else:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = next(
                int(line.split()[1]) * 1024 for line in status.splitlines() if "VmRSS" in line
            )
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss, fds, on_database(pid) if on_database is not None else 0
    except (OSError, StopIteration, ValueError):
        return None
    except Exception as error:  # psutil.NoSuchProcess and the like
        if type(error).__module__.startswith("psutil"):
            return None
        raise


WRITER = "bot.writer"
"""What the engagement writer's command line holds (``python -m bot.writer``): Steward starts
it beside itself (cogs/engagement/_writer.py), so its memory is Steward's too."""


def writers(pid: int) -> list[int]:
    """The engagement writer processes Steward's process ``pid`` started (its children whose
    command line runs ``bot.writer``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])  # after the name: state, ppid
            if parent == pid and WRITER in Path(f"/proc/{entry}/cmdline").read_text():
                found.append(int(entry))
    return found


def _targets(pid: int) -> list[str]:
    """What each open fd of a process points at (those closed meanwhile left out)."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return targets


def database_fds(url: str) -> Callable[[int], int]:
    """Counts a process's fds on the database at ``url`` (Steward's, through the proxy): SQLite's
    files (the database, its WAL, -shm and rollback journal, Steward's lock file beside it), or
    TCP connections to PostgreSQL's port."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = os.path.realpath(str(parsed.database))
        files = {path, *(path + end for end in ("-wal", "-shm", "-journal", "-steward.lock"))}
        return lambda pid: sum(t in files for t in _targets(pid))  # not the spill's journals
    port = f":{parsed.port or 5432:04X}"

    def connections(pid: int) -> int:
        sockets = {t[8:-1] for t in _targets(pid) if t.startswith("socket:[")}
        count = 0
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                    fields = line.split()
                    count += fields[2].endswith(port) and fields[9] in sockets
        return count

    return connections


def database_fd_bound(url: str) -> int:
    """The most fds a process may hold on its database: the pool's most connections (size and
    overflow) each with SQLite's database file and WAL open, plus the shared -shm and the lock
    file, plus on SQLite the database gate's probe, a connection of its own
    (``Database.probe``); on PostgreSQL a socket each, plus the settings listener's."""
    from bot.db.engine import create_engine

    pool: Any = create_engine(url).pool  # no connection is made
    connections = int(pool.size()) + int(pool._max_overflow)
    return 2 * (connections + 1) + 2 if url.startswith("sqlite") else connections + 1


@dataclass
class Lifetime:
    """The samples of one process, and the figures drawn from them after the warm-up."""

    pid: int
    samples: list[Sample]
    warmup: float
    since: float = 0.0
    """Samples before this moment (the soak's start: the set-up is not measured) are left out."""
    until: float = float("inf")
    """Samples after this moment (the workload stopped: the last process idles while it
    finishes) are left out too."""

    @property
    def seconds(self) -> float:
        """How long it was watched during the soak."""
        kept = [s for s in self.samples if self.since <= s.at <= self.until]
        return kept[-1].at - kept[0].at if kept else 0.0

    def after_warmup(self) -> list[Sample]:
        """The samples judged: after the first ``warmup`` seconds of its life, while the
        workload ran."""
        if not self.samples:
            return []
        start = max(self.samples[0].at + self.warmup, self.since)
        return [s for s in self.samples if start <= s.at <= self.until]

    @property
    def judged_seconds(self) -> float:
        """How long the judged samples span."""
        kept = self.after_warmup()
        return kept[-1].at - kept[0].at if kept else 0.0

    def under_load(self) -> list[Sample]:
        """The samples whose RSS growth is judged: after the first ``warmup`` seconds of the
        process's life under the workload, that is from ``warmup`` seconds after the later of
        its start and the workload's, while the workload ran.

        A process started before the workload (the soak's first, which idled through the set-up)
        warms up when the workload begins, not when it started: its first joins, posts and
        faults fill caches a restarted process fills within its own warm-up (discord.py's
        member cache, SQLAlchemy's compiled statements, SQLite's page cache, the allocator's
        arenas). A leak keeps its slope after the warm-up as before it, so leaving the warm-up
        out hides none."""
        if not self.samples:
            return []
        start = max(self.samples[0].at, self.since) + self.warmup
        return [s for s in self.samples if start <= s.at <= self.until]

    @property
    def growth_seconds(self) -> float:
        """How long the samples whose growth is judged span."""
        kept = self.under_load()
        return kept[-1].at - kept[0].at if kept else 0.0

    def growth_mb_per_hour(self) -> float:
        """The least-squares slope of RSS over the samples under load after the warm-up, in MB
        an hour (nan with too few samples)."""
        return _slope(self.under_load())

    def half_growths(self) -> tuple[float, float]:
        """The slope over the first half of those samples and over the second: a leak keeps
        its slope, caches filling up (or the allocator settling) slow down."""
        kept = self.under_load()
        if len(kept) < 6:
            return float("nan"), float("nan")
        middle = (kept[0].at + kept[-1].at) / 2
        return (
            _slope([s for s in kept if s.at <= middle]),
            _slope([s for s in kept if s.at > middle]),
        )

    def rest_levels(self, faults: list[tuple[float, float]]) -> list[tuple[float, int]]:
        """The fewest fds open, the database's left out, in each stretch of the judged samples
        that no fault touches: before the first fault, then from ``SETTLE`` seconds after each
        fault ended until the next began, each cut into pieces of at most ``STRETCH`` seconds
        (so a run without faults has stretches too). The fewest, not the most: a feed poll's or
        a retry's connections come and go within a stretch, a leaked fd stays in every later
        one. (start, fewest) in time order; stretches with fewer than two samples are left
        out."""
        kept = self.after_warmup()
        if not kept:
            return []
        edges = [(kept[0].at, float("inf"))]
        for began, ended in sorted(faults):
            edges[-1] = (edges[-1][0], min(edges[-1][1], began))
            edges.append((ended + SETTLE, float("inf")))
        levels = []
        for start, stop in edges:
            while start < min(stop, kept[-1].at):
                end = min(stop, start + STRETCH)
                piece = [s.fds - s.db_fds for s in kept if start <= s.at < end]
                if len(piece) >= 2:
                    levels.append((start, min(piece)))
                start = end
        return levels


def _slope(kept: list[Sample]) -> float:
    """The least-squares slope of RSS over time, in MB an hour (nan with too few samples)."""
    if len(kept) < 3:
        return float("nan")
    xs = [s.at for s in kept]
    ys = [s.rss / MB for s in kept]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 3600


class Steward:
    """The Steward process of the moment: started, killed and restarted; sampled throughout."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: Any = None
        self.samples: list[Sample] = []
        self.writer_samples: list[Sample] = []
        """The engagement writer's (a process of its own, started by Steward's)."""
        self.restarts: list[float] = []

    async def start(self) -> None:
        """Start a process; return once it says it is running."""
        from sandbox.process import start_steward

        begun = time.perf_counter()
        self.process = await start_steward(self.env, self.log)
        self.restarts.append(time.perf_counter() - begun)

    async def kill(self) -> int:
        """SIGKILL, then a new process; returns the killed pid."""
        pid = int(self.process.pid)
        self.process.kill()
        await self.process.wait()
        await self.start()
        return pid

    async def stop(self) -> None:
        """End the process the ordinary way."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    async def watch(self, every: float, on_database: Callable[[int], int] | None = None) -> None:
        """Sample the live process and its engagement writer every ``every`` seconds (until
        cancelled); ``on_database`` counts their fds on the database."""
        while True:
            process = self.process
            if process is not None and process.returncode is None:
                seen = sample(process.pid, on_database)
                if seen is not None:
                    self.samples.append(Sample(process.pid, time.monotonic(), *seen))
                for pid in writers(process.pid):
                    seen = sample(pid, on_database)
                    if seen is not None:
                        self.writer_samples.append(Sample(pid, time.monotonic(), *seen))
            await asyncio.sleep(every)

    def lifetimes(
        self, warmup: float, since: float, until: float, *, writer: bool = False
    ) -> list[Lifetime]:
        """The samples grouped per process (Steward's, or with ``writer`` its engagement
        writer's), the longest judged first."""
        by_pid: dict[int, list[Sample]] = {}
        for s in self.writer_samples if writer else self.samples:
            by_pid.setdefault(s.pid, []).append(s)
        lives = [Lifetime(pid, samples, warmup, since, until) for pid, samples in by_pid.items()]
        return sorted(lives, key=lambda life: life.judged_seconds, reverse=True)


# ---------------------------------------------------------------- the platforms


class DiscordSoak:
    """The soak's moves on the fake Discord: communities, feeds, faults."""

    platform = "discord"

    def __init__(self, fake: Any, args: argparse.Namespace) -> None:
        from bench.kill_matrix import DiscordSide
        from sandbox.scenario._open import _seed_discord

        self.fake = fake
        guild, people, _settings = _seed_discord(fake)
        self.side = DiscordSide(fake, guild, people)
        self.guilds = [guild]
        for g in range(1, -(-args.feeds // PER_COMMUNITY)):
            self.guilds.append(fake.add_guild(f"Relay {g + 1}", owner=fake.owner))
        self.channels = [[fake.add_channel(g, f"news-{c}") for c in range(2)] for g in self.guilds]

    async def command(self, where: Any, command: str, **options: Any) -> str:
        """The owner runs a slash command in ``where``'s guild; returns what they saw ("" when
        the interaction failed, as it does when a busy process answers late)."""
        try:
            result = await self.fake.invoke_slash(self.fake.owner, where, command, **options)
        except (AssertionError, TimeoutError):
            return ""
        return str(result.text)

    async def follow(self, publisher: Publisher) -> None:
        """Each guild imports its feeds, half into each of its channels."""
        for g, guild in enumerate(self.guilds):
            share = publisher.feeds[g * PER_COMMUNITY : (g + 1) * PER_COMMUNITY]
            for c, channel in enumerate(self.channels[g]):
                half = share[c::2]
                url = publisher.opml(half, f"/opml/{g}-{c}.xml")
                general = guild.channel_named("general")
                importing = partial(
                    self.command, general, "announcements import", opml=url, channel=channel
                )
                await _until(importing)
                for feed in half:
                    feed.channels.append(channel)

    def received(self, channel: Any) -> list[str]:
        """Steward's posts in a channel, each as text that holds its link."""
        return [
            m.content + json.dumps(m.embeds)
            for m in self.fake.messages_in(channel)
            if m.author["id"] == self.fake.bot.id
        ]

    def faults(self) -> dict[str, list[tuple[str, Callable[[], Any]]]]:
        """The platform's storms and gateway faults, by name."""
        fake = self.fake
        news = self.channels[0][0].id
        return {
            "storm": [
                ("bucket 429 x5", lambda: fake.rate_limit_next(5, retry_after=1.0)),
                ("global 429 x5", lambda: fake.rate_limit_next(5, retry_after=1.0, global_=True)),
                ("shared 429 x5", lambda: fake.rate_limit_shared(news, 5, retry_after=1.0)),
                ("Cloudflare ban x5", lambda: fake.ban_next(5)),
                ("502 x5", lambda: fake.fail_next(5, status=502)),
                ("500 x5", lambda: fake.fail_next(5, status=500)),
            ],
            "gateway": [
                ("TCP drop", lambda: fake.drop_gateway()),
                ("RECONNECT (op 7)", fake.request_reconnect),
                ("INVALID_SESSION resumable", lambda: fake.invalidate_session(resumable=True)),
                ("INVALID_SESSION", lambda: fake.invalidate_session(resumable=False)),
                ("zombie", fake.zombie_gateway),
            ],
        }


class SlackSoak:
    """The soak's moves on the fake Slack: one workspace, 100 feeds routed to two channels."""

    platform = "slack"

    def __init__(self, fake: Any, args: argparse.Namespace) -> None:
        from bench.kill_matrix import SlackSide
        from sandbox.scenario._open import _seed_slack

        del args
        self.fake = fake
        channels, people, _settings = _seed_slack(fake)
        self.side = SlackSide(fake, channels, people)
        self.admin = people["olivia"].account
        self.news = [fake.add_channel(f"news-{c}") for c in range(4)]

    async def command(self, text: str) -> str:
        """The owner runs ``/announcements <text>``; returns what they saw (it may come late)."""
        outcome = await self.fake.slash(self.admin, "/announcements", text)
        for _ in range(1200):
            if outcome.shown:
                break
            await asyncio.sleep(0.1)
        return " ".join(s.text for s in outcome.shown)

    async def follow(self, publisher: Publisher) -> None:
        """Two imports of 50 feeds; each feed gets a second route."""
        feeds = publisher.feeds[:PER_COMMUNITY]
        for c in range(2):
            half = feeds[c::2]
            url = publisher.opml(half, f"/opml/{c}.xml")
            channel = self.news[c]
            await _until(partial(self.command, f"import {url} <#{channel.id}|{channel.name}>"))
            for feed in half:
                feed.channels.append(channel)
        for i, feed in enumerate(feeds):
            channel = self.news[2 + i % 2]
            said = await self.command(
                f"route add {publisher.url(feed)} <#{channel.id}|{channel.name}>"
            )
            _expect(said, "Added route", "route add")
            feed.channels.append(channel)

    def received(self, channel: Any) -> list[str]:
        """Steward's posts in a channel, each as text that holds its link."""
        return [
            m.data.get("text", "") + json.dumps(m.data.get("blocks", []))
            for m in self.fake.messages_in(channel.id)
            if m.via == "api"
        ]

    def faults(self) -> dict[str, list[tuple[str, Callable[[], Any]]]]:
        """The platform's storms and Socket Mode faults, by name."""
        fake, post = self.fake, "chat.postMessage"
        return {
            "storm": [
                ("429 Retry-After 1 x5", lambda: fake.faults.rate_limit(5, retry_after=1)),
                ("429 Retry-After 5 x3", lambda: fake.faults.rate_limit(3, retry_after=5)),
                ("503 x5", lambda: fake.faults.server_error(5, status=503, method=post)),
                ("500 x5", lambda: fake.faults.server_error(5, method=post)),
            ],
            "gateway": [
                ("disconnect refresh_requested", fake.socket_disconnect),
                ("disconnect warning", lambda: fake.socket_disconnect("warning")),
                ("drop with 2 envelopes", lambda: fake.drop_socket_mid_stream(2)),
            ],
        }


def _expect(said: str, word: str, what: str) -> None:
    if word not in said:
        raise RuntimeError(f"{what}: Steward answered {said!r}")


async def _until(run: Callable[[], Awaitable[str]]) -> None:
    """Run an import until Steward says it follows the feeds (a retry finds them known)."""
    for _ in range(30):
        said = await run()
        if said.startswith(("Following", "No new feeds")):
            return
        await asyncio.sleep(2.0)
    raise RuntimeError(f"the import failed: Steward answered {said!r}")


async def every_minute(url: str) -> int:
    """Every feed checked each minute from now on, as ``/announcements set <feed> every:1m``
    sets it (written in the database while no process runs: 200 commands through the fake
    Discord would exceed discord.py's gateway send budget, each one heartbeating)."""
    from sqlalchemy import update

    from bot.core.clock import SystemClock
    from bot.db.engine import Database
    from cogs.announcements._models import AnnouncementFeed

    db = Database(url)
    try:
        async with db.uow() as uow:
            now = SystemClock().now()
            done = await uow.session.execute(
                update(AnnouncementFeed).values(interval_s=60, next_poll_at=now)
            )
            await uow.commit()
    finally:
        await db.dispose()
    return int(done.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the run


@dataclass
class Report:
    """What the soak came to."""

    platform: str
    database: str
    minutes: float = 0.0
    faults: list[str] = field(default_factory=list)
    items: int = 0  # published after their feed's baseline
    routes: int = 0  # (item, channel) pairs expected
    posted: int = 0
    missing: int = 0
    doubled: int = 0
    old_posted: int = 0
    tally: Any = None  # bench.kill_matrix.Tally of the workload
    raw_messages: int = 0
    rolled_messages: int = 0
    lifetimes: list[Lifetime] = field(default_factory=list)
    writer_lifetimes: list[Lifetime] = field(default_factory=list)
    """The engagement writer's processes, the longest judged first."""
    restart: float = 0.0
    problems: list[str] = field(default_factory=list)
    judge_at_least: float = 15 * 60
    """The shortest judged window (seconds) the memory goal is judged on."""
    fault_times: list[tuple[float, float]] = field(default_factory=list)
    """When each fault began and ended (``time.monotonic()``)."""
    db_fd_bound: int = 0
    """The most fds a process may hold on the database (``database_fd_bound``)."""

    @property
    def longest(self) -> Lifetime | None:
        """The longest-lived process."""
        return self.lifetimes[0] if self.lifetimes else None

    def goals(self) -> list[tuple[str, str, bool | None]]:
        """(goal, measured, met) for the table; met is None for a goal not judged."""
        t = self.tally
        life = self.longest
        welcomes = f"{t.welcomes_missing} missing, {t.duplicates} doubled"
        return [
            (
                "feed items posted once per route",
                f"{self.posted}/{self.routes} ({self.items} items), {self.missing} missing, "
                f"{self.doubled} doubled, {self.old_posted} old posted",
                not (self.missing or self.doubled or self.old_posted),
            ),
            (
                "acked events stored",
                f"{t.acked} acked of {t.joins + t.posts + t.reactions} "
                f"({t.joins} joins, {t.posts} posts, {t.reactions} reactions), "
                f"{t.acked_not_stored} not stored; {t.unacked_lost} never acked, not stored",
                not t.acked_not_stored,
            ),
            (
                "newcomers welcomed once",
                f"{welcomes}; outbox {t.outbox}, {t.undelivered} undelivered, "
                f"{t.unrecorded} unrecorded",
                not (t.welcomes_missing or t.duplicates or t.undelivered or t.unrecorded),
            ),
            (
                "messages counted once",
                f"{self.raw_messages} stored, {self.rolled_messages} in the daily counts",
                self.raw_messages == self.rolled_messages,
            ),
            self._memory_goal(life),
            self._memory_goal(
                self.writer_lifetimes[0] if self.writer_lifetimes else None, "writer's "
            ),
            self._fd_goal(life),
        ]

    def _fd_goal(self, life: Lifetime | None) -> tuple[str, str, bool | None]:
        """Open fds back at rest after the faults: the fewest open (the database's left out) in
        the stretches between faults of the window's last ``STRETCH`` seconds within
        ``FD_SLACK`` of the fewest before the first fault, and the database's never more than
        its pool allows. A stretch between is shown, not judged: a leaked fd stays to the end,
        while a catch-up after an outage may hold a few connections for minutes (the Slack soak
        held 10 more sockets for 3 minutes after one, then was back at 12 from 11).

        The database's are judged apart because SQLite keeps them after an outage, boundedly: in
        a 60 s lock the pool opened 12 connections (the database file and WAL each), and once it
        was back the WALs went back to the pool's 5 while the 12 database files stayed open.
        SQLite keeps a closed connection's file open while another connection of the process
        holds a lock on it (closing it would drop that lock), which in WAL mode every open
        connection does, and reuses it for the next connection it opens: five outages in a row
        held 15 (the pool's most), no more."""
        goal = f"open fds back at rest (+{FD_SLACK} at most; the database's within its pool)"
        kept = life.after_warmup() if life else []
        levels = life.rest_levels(self.fault_times) if life else []
        if not kept or not levels:
            return (goal, "no samples", None)
        fds = [s.fds for s in kept]
        on_db = max(s.db_fds for s in kept)
        base = levels[0][1]
        last = [n for at, n in levels[1:] if at >= kept[-1].at - STRETCH] or [levels[-1][1]]
        between = ", ".join(str(n) for _, n in levels[1:]) or "none"
        measured = (
            f"fewest open (the database's aside) {base} before the faults, {min(last)} at the "
            f"end (between: {between}); the database's at most {on_db} (its pool allows "
            f"{self.db_fd_bound}); all {min(fds)}..{max(fds)}"
        )
        met = min(last) <= base + FD_SLACK and on_db <= self.db_fd_bound
        return (goal, measured, met)

    def _memory_goal(self, life: Lifetime | None, whose: str = "") -> tuple[str, str, bool | None]:
        """RSS growth of the longest-judged process (``whose``: "" for Steward's, "writer's "
        for its engagement writer's); None (not judged) when its judged window is shorter than
        ``judge_at_least``: a slope over a few minutes after a start measures caches filling and
        the allocator settling, not a leak, and no hourly rate follows."""
        goal = f"{whose}RSS growth < 20 MB/h"
        if life is None:
            return (goal, "no samples", None)
        kept = life.under_load()
        growth = life.growth_mb_per_hour()
        first, second = life.half_growths()
        window = life.growth_seconds / 60
        lives = self.writer_lifetimes if whose else self.lifetimes
        measured = (
            f"{growth:+.1f} MB/h over {window:.1f} min after the warm-up "
            f"({kept[0].rss / MB if kept else 0:.0f}->{kept[-1].rss / MB if kept else 0:.0f} MB; "
            f"halves {first:+.1f}, {second:+.1f} MB/h; pid {life.pid}, "
            f"{len(lives)} processes)"
        )
        if window < self.judge_at_least / 60:
            measured += f": not judged, under {self.judge_at_least / 60:.0f} min"
            return (goal, measured, None)
        return (goal, measured, growth < 20)

    @property
    def bad(self) -> bool:
        """Whether a goal failed (one not judged is no failure; the table says it)."""
        return any(met is False for _, _, met in self.goals())


async def _stored(url: str) -> dict[str, Any]:
    """kill_matrix's view of what was stored, the outbox limited to onboarding's rows, and the
    messages engagement stored against those it counted per member and day."""
    from sqlalchemy import func, select

    from bench.kill_matrix import _stored as stored_by_kill_matrix
    from bot.db.engine import Database
    from cogs.engagement._models import EVENTS, MEMBER_DAYS

    stored = await stored_by_kill_matrix(url)
    stored["relay_rows"] = [r for r in stored["rows"] if r.feature == "announcements"]
    stored["rows"] = [r for r in stored["rows"] if r.feature == "onboarding"]
    db = Database(url)
    try:
        async with db.uow() as uow:
            s = uow.session
            raw = await s.scalar(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.kind == "message")
            )
            rolled = await s.scalar(select(func.sum(MEMBER_DAYS.c.messages)))
    finally:
        await db.dispose()
    stored["raw_messages"], stored["rolled_messages"] = int(raw or 0), int(rolled or 0)
    return stored


async def _wait(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)
    return True


def _stamp(begun: float) -> str:
    seconds = int(time.monotonic() - begun)
    return f"[{seconds // 60:02d}:{seconds % 60:02d}]"


async def _fault(
    kind: str, soak: Any, steward: Steward, outage: Any, rng: random.Random, args: Any
) -> str:
    """Strike with one fault of ``kind``; returns what was done."""
    if kind == "kill":
        begun = time.perf_counter()
        pid = await steward.kill()
        took = time.perf_counter() - begun
        return f"kill -9 of pid {pid}; pid {steward.process.pid} running {took:.0f} s later"
    if kind == "database":
        await outage.away()
        try:
            await asyncio.sleep(args.outage)
        finally:
            await outage.back()
        how = "locked by another connection" if outage.proxy is None else "refused and reset"
        return f"database away {args.outage:.0f} s ({how})"
    name, make = rng.choice(soak.faults()[kind])
    done = make()
    if asyncio.iscoroutine(done):
        await done
    return f"{kind}: {name}"


async def _soak(args: argparse.Namespace, soak: Any, url: str, report: Report, tmp: str) -> None:
    from bench.kill_matrix import Tally, Workload, _check, _configure
    from bot.db.schema import upgrade
    from sandbox.feeds import FeedServer
    from sandbox.outage import through_outage

    rng = random.Random(args.seed)
    server = FeedServer("127.0.0.1")
    await server.start()
    feeds = args.feeds if soak.platform == "discord" else min(args.feeds, PER_COMMUNITY)
    publisher = Publisher(server, feeds, random.Random(args.seed + 1))
    await upgrade(url)
    async with through_outage(url) as (steward_url, outage):
        env = {
            "STEWARD_DATABASE_URL": steward_url,
            "STEWARD_FEATURES": FEATURES,
            "STEWARD_FEEDS_ALLOW": "127.0.0.0/8",
            "STEWARD_FEEDS_MIN_INTERVAL": "60",
            **soak.side.env(),
        }
        log = Path(tmp) / f"steward-{report.platform}-{report.database}.log"
        steward = Steward(env, log)
        await steward.start()
        report.db_fd_bound = database_fd_bound(steward_url)
        on_database = database_fds(steward_url)
        sampling = asyncio.create_task(steward.watch(args.sample_every, on_database))
        watching = asyncio.create_task(_heartbeats(soak.side))
        try:
            side = soak.side
            welcome = side.welcome if side.platform == "discord" else side.channels["welcome"]
            await _configure(side, welcome.id)
            await soak.follow(publisher)
            await steward.stop()
            print(f"{await every_minute(url)} feeds checked every minute", flush=True)
            await steward.start()
            print("following the feeds; waiting for each to keep its baseline", flush=True)

            async def settled() -> bool:
                return publisher.settled()

            if not await _wait(settled, 600):
                raise RuntimeError("the feeds were not all polled within 10 minutes")
            publisher.baseline()
            workload = Workload(side, random.Random(args.seed + 2), 1.0)
            workload.weights = {"join": 3, "post": 5, "react": 2}
            stop = asyncio.Event()
            begun = time.monotonic()
            driving = asyncio.create_task(workload.run(stop))
            publishing = asyncio.create_task(_publish(publisher, args.publish_every, stop))
            end = begun + args.minutes * 60
            kinds = args.kinds.split(",")
            deck: list[str] = []
            strikes = begun + args.fault_every  # on a fixed schedule, however long each lasts
            while strikes < end:
                await asyncio.sleep(max(0.0, strikes - time.monotonic()))
                strikes += args.fault_every
                if not deck:  # each kind once per round of four, in a random order
                    deck = rng.sample(kinds, len(kinds))
                kind = deck.pop()
                at, struck = _stamp(begun), time.monotonic()
                said = await _fault(kind, soak, steward, outage, rng, args)
                report.fault_times.append((struck, time.monotonic()))
                report.faults.append(f"{at} {said}")
                print(report.faults[-1], flush=True)
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            stopped = time.monotonic()
            stop.set()
            await driving
            await publishing
            await workload.finish()
            await side.settle(args.finish_within)
            report.minutes = (time.monotonic() - begun) / 60
            print(f"{_stamp(begun)} workload stopped; the last process finishes", flush=True)

            def delivered() -> bool:
                return _compare(soak, publisher, Report(report.platform, report.database))

            async def done() -> bool:
                rows = await _stored(url)
                pending = any(r.status == "pending" for r in rows["rows"] + rows["relay_rows"])
                return not pending and delivered()

            await _wait(done, args.finish_within)
            await asyncio.sleep(5.0)  # time for a wrong second post to land
            side.watch()
        finally:
            watching.cancel()
            sampling.cancel()
            await steward.stop()
            await server.stop()
    stored = await _stored(url)
    report.tally = Tally(report.platform, report.database)
    _check(side, workload.actions, stored, report.tally)
    report.problems += report.tally.problems
    _compare(soak, publisher, report)
    report.raw_messages, report.rolled_messages = stored["raw_messages"], stored["rolled_messages"]
    report.lifetimes = steward.lifetimes(args.warmup, begun, stopped)
    report.writer_lifetimes = steward.lifetimes(args.warmup, begun, stopped, writer=True)
    report.restart = sum(steward.restarts) / len(steward.restarts)
    report.problems += [str(v) for v in soak.fake.violations[:5]]


async def _heartbeats(side: Any) -> None:
    while True:
        side.watch()
        await asyncio.sleep(0.05)


async def _publish(publisher: Publisher, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        publisher.publish()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def _compare(soak: Any, publisher: Publisher, report: Report) -> bool:
    """Each published item once in each of its feed's channels; none of a baseline. Returns
    whether every item arrived."""
    held: dict[str, list[str]] = {}
    for feed in publisher.feeds:
        for channel in feed.channels:
            if channel.id not in held:
                held[channel.id] = soak.received(channel)
    report.items = sum(len(f.published) for f in publisher.feeds)
    for feed in publisher.feeds:
        for channel in feed.channels:
            posts = held[channel.id]
            for key in feed.published:
                n = sum(f"/s/{key}.html" in p for p in posts)
                report.routes += 1
                report.posted += min(n, 1)
                report.missing += n == 0
                report.doubled += max(n - 1, 0)
                if n != 1:
                    report.problems.append(f"item {key} in {channel.id}: posted {n} times")
            for key in feed.baseline:
                report.old_posted += sum(f"/s/{key}.html" in p for p in posts)
    return report.missing == 0


# ---------------------------------------------------------------- the command


async def one(args: argparse.Namespace, platform: str, database: str, tmp: str) -> Report | None:
    """The soak on one platform and database (None when PostgreSQL is not there)."""
    from bench._common import fresh_pg_database

    if database == "sqlite":
        url: str | None = f"sqlite+aiosqlite:///{tmp}/soak-{platform}.db"
    else:
        url = await fresh_pg_database(f"bench_soak_{platform}")
    if url is None:
        return None
    report = Report(platform, database, judge_at_least=args.judge_at_least * 60)
    if platform == "discord":
        from sandbox.discord import FakeDiscord

        async with FakeDiscord(validate=not args.no_validate) as fake:
            fake.gateway.HEARTBEAT_INTERVAL_MS = 1000  # acks between faults (see kill_matrix)
            await _soak(args, DiscordSoak(fake, args), url, report, tmp)
    else:
        from sandbox.slack import FakeSlack

        retries = (1.0, 3.0, 6.0)  # Slack's are 0 s, 1 min, 5 min: shortened, same shape
        async with FakeSlack(
            validate=not args.no_validate, retry_delays=retries, connect_timeout=3.0
        ) as fake:
            await _soak(args, SlackSoak(fake, args), url, report, tmp)
    return report


def _write_samples(path: Path, report: Report) -> None:
    """Every sample as CSV: platform, database, pid, seconds into the soak, RSS bytes, fds, of
    those the database's, and whose process it is (steward, or its engagement writer)."""
    new = not path.exists()
    with path.open("a") as out:
        if new:
            out.write("platform,database,pid,seconds,rss,fds,db_fds,process\n")
        for whose, lives in (("steward", report.lifetimes), ("writer", report.writer_lifetimes)):
            for life in lives:
                for s in life.samples:
                    at = s.at - life.since
                    row = f"{report.platform},{report.database},{s.pid},{at:.1f},{s.rss}"
                    out.write(f"{row},{s.fds},{s.db_fds},{whose}\n")


def render(report: Report) -> str:
    """The goals table of one run."""
    from bench._common import table

    said = {True: "ok", False: "FAILED", None: "not judged"}
    rows = [(goal, measured, said[met]) for goal, measured, met in report.goals()]
    title = (
        f"{report.platform} + {report.database}: {report.minutes:.1f} min, "
        f"{len(report.faults)} faults, mean start {report.restart:.0f} s"
    )
    return title + "\n" + table(("goal", "measured", ""), rows)


async def _main(args: argparse.Namespace) -> int:
    os.environ["STEWARD_PLATFORM_SPEED"] = str(args.speed)
    reports = []
    with contextlib.ExitStack() as stack:
        tmp = args.keep or stack.enter_context(tempfile.TemporaryDirectory(prefix="steward-soak-"))
        os.makedirs(tmp, exist_ok=True)  # --keep names a folder that may not exist yet
        print(f"Steward's logs in {tmp} (kept with --keep DIR)", flush=True)
        for database in args.database or ["sqlite"]:
            for platform in args.platform or ["discord"]:
                report = await one(args, platform, database, tmp)
                if report is None:
                    print(f"{database}: no server answers; left out")
                    continue
                reports.append(report)
                if args.samples:
                    _write_samples(Path(args.samples), report)
                print(render(report))
                for problem in report.problems[:10]:
                    print(f"  {problem}")
    return 1 if any(r.bad for r in reports) else 0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.soak")
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--platform", action="append", choices=["discord", "slack"])
    p.add_argument("--database", action="append", choices=["sqlite", "postgres"])
    p.add_argument("--fault-every", type=float, default=120.0, help="seconds between faults")
    p.add_argument("--outage", type=float, default=60.0, help="seconds the database is away")
    p.add_argument("--feeds", type=int, default=200)
    p.add_argument("--publish-every", type=float, default=3.0, help="seconds between new items")
    p.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    p.add_argument("--warmup", type=float, default=120.0, help="seconds of a life not measured")
    p.add_argument(
        "--judge-at-least",
        type=float,
        default=15.0,
        help="minutes after the warm-up a process must be watched for its RSS growth to be judged",
    )
    p.add_argument(
        "--kinds",
        default="kill,database,storm,gateway",
        help="the faults drawn (comma-separated); without kill one process lives the whole run",
    )
    p.add_argument("--speed", type=float, default=1.0, help="platform limits run this fast")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--finish-within", type=float, default=600, help="seconds the last one gets")
    p.add_argument("--keep", default=None, help="a folder for the database and logs, kept")
    p.add_argument("--samples", default=None, help="append every RSS and fd sample to this CSV")
    p.add_argument("--no-validate", action="store_true", help="skip the spec checks")
    return p


def main(argv: list[str] | None = None) -> int:
    """Soak and print the table; exit 1 when a goal fails."""
    p = parser()
    args = p.parse_args(argv)
    unknown = set(args.kinds.split(",")) - {"kill", "database", "storm", "gateway"}
    if unknown:
        p.error(f"--kinds: no fault called {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
