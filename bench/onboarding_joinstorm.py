"""A join storm through both fakes: every newcomer welcomed exactly once, nothing lost.

Steward with onboarding (welcome channel set, ``welcome_where=both``: a public welcome and a DM
each) serves the fake Discord, then the fake Slack, on a fresh SQLite file and on a fresh
PostgreSQL database (``STEWARD_TEST_POSTGRES_URL``'s server; left out when none answers). Where
Steward runs is ``--steward``:

* ``process`` (the default): ``python -m bot run`` as its own process (``sandbox.process``, as
  the kill matrix starts it, pointed at the seeded fake by ``steward_env``), the fake and the
  driver in this one. This is how Steward runs in production, where the platform is not in its
  process: the fake's HTTP server, schema checks and Socket Mode are not charged to it, and its
  own CPU is read from the process (``/proc/<pid>/stat``).
* ``inline``: the App in this process beside the fake and the driver (the scenario's
  ``open_community``), as ``bench.run`` and the tests run it and as the figures before this mode
  were taken. A storm is CPU-bound there, and the fake's share of the CPU slows Steward's welcomes.
* ``both``: each platform and database in both modes, one after the other, in one table.

``n`` people join as fast as the fake can announce them (harder than the issue's "500 in a
minute"); the driver then waits until every welcome arrived and Steward has nothing in hand (in
process mode: no pending delivery and no unhandled event in its database) or nothing moved for
``--patience`` seconds, and counts per member: a public welcome names several newcomers when their
welcomes waited for the channel together (a burst's shared post), and each member named counts
once. Latency is join to the moment the fake holds the welcome: the public one seen by polling
#welcome every 50 ms, the DM when the fake stored it. 429s are what the fakes answered: the
fakes enforce the platforms' limits (5 messages per 5 s per Discord channel, 50 requests a second;
1 post a second per Slack channel), run 50 times faster here (``STEWARD_PLATFORM_SPEED``, unless
set, which a Steward process inherits: it paces to the same speed), or 500 welcomes in one channel
would take 500 s. ``--slack-429`` injects that many more ``ratelimited`` answers to
chat.postMessage to show they cost time, not welcomes.

``python -m bench.onboarding_joinstorm [--n 500] [--steward process|inline|both]
[--only discord|slack] [--database sqlite|postgresql]`` prints the storm table: per run the
mode, p50/p99 join-to-public-welcome and join-to-welcome-DM latency, lost, duplicates, members
welcomed exactly once, joins a second, "CPU ms/join" of this process (inline: Steward, the fake
and the driver; process: the fake and the driver) and "Steward CPU ms/join" (process mode: its
own process; "-" inline, where it cannot be told apart). ``run(n)`` gives bench/run.py rows
(inline) where p50/p99 are join-to-public-welcome latency, ``ratio p50`` is the share of members
welcomed exactly once (channel and DM; 1.00 is the goal) and ``ratio p99`` the welcome messages
delivered over those expected.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import PG_URL, Row, drop_pg_database, fresh_pg_database, percentile_ms

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAME = "onboarding_joinstorm"
MODES = ("inline", "process")
"""Where Steward runs: in this process beside the fake, or as its own ``python -m bot run``."""
_MENTION = re.compile(r"<@([A-Za-z0-9]+)")


@dataclass(frozen=True)
class Storm:
    """What one platform's storm came to."""

    platform: str
    database: str
    joins: int
    welcomes: int  # public welcomes plus welcome DMs delivered
    duplicates: int
    lost: int
    exactly_once: int  # members with exactly one public welcome and one DM
    rate_limited: int  # 429 answers the fake gave
    elapsed: float
    latencies: list[float]
    arrival: float = 0.0  # seconds the driver took to hand in every join
    cpu: float = 0.0  # CPU seconds of this process meanwhile (inline: Steward too)
    dm_latencies: tuple[float, ...] = ()  # join to welcome DM, per member who got one
    mode: str = "inline"  # one of MODES
    steward_cpu: float | None = None  # CPU seconds of Steward's own process (process mode)


async def _join_all(community: Any, names: list[str]) -> dict[str, float]:
    """Everyone joins at once; returns each user id's join time."""
    joined: dict[str, float] = {}
    fake = community.fake
    if community.platform == "discord":
        for name in names:
            user = fake.add_user(name)
            joined[user.id] = time.perf_counter()
            await fake.member_joins(community.guild, user)
        return joined

    async def one(name: str) -> None:
        started = time.perf_counter()
        # Not waiting for the fake to settle: with a storm under way it never does for long.
        user = await fake.member_joins(name, settle=False)
        joined[user.id] = started

    await asyncio.gather(*(one(name) for name in names))
    return joined


def _raw_welcomes(community: Any) -> list[Any]:
    """The fake's own list of what is in #welcome (cheap: no conversion)."""
    fake = community.fake
    if community.platform == "discord":
        return list(fake.messages_in(community.guild.channel_named("welcome")))
    return list(fake.messages_in(community.channels["welcome"]))


def _watch_dms(community: Any) -> dict[str, float]:
    """When each member's first DM reached the fake, by user id (filled in as they arrive: the
    fake's store is wrapped, so the driver never polls the members' DMs)."""
    arrived: dict[str, float] = {}
    fake = community.fake
    if community.platform == "discord":
        world = fake.world
        add = world.add_message

        def add_message(message: Any) -> Any:
            stored = add(message)
            channel = world.channels.get(message.channel_id)
            if channel is not None and channel.recipient_id and not message.ephemeral:
                arrived.setdefault(channel.recipient_id, time.perf_counter())
            return stored

        world.add_message = add_message
        return arrived
    api = fake.api
    post = api.post

    def posted(call: Any, ch: Any, **kwargs: Any) -> Any:
        stored = post(call, ch, **kwargs)
        if ch.is_im and ch.im_user:
            arrived.setdefault(ch.im_user, time.perf_counter())
        return stored

    api.post = posted
    return arrived


def _tally(community: Any, people: dict[str, Any]) -> tuple[Counter[str], Counter[str]]:
    """Public welcomes and welcome DMs, per user id."""
    public: Counter[str] = Counter()
    for posted in community.messages_in("welcome"):
        if "Welcome to" in posted.text:
            public.update(set(_MENTION.findall(posted.text)))
    dms: Counter[str] = Counter()
    for user_id, person in people.items():
        dms[user_id] = sum("Welcome to" in m.text for m in community.dms_of(person))
    return public, dms


async def storm(
    platform: str,
    n: int,
    *,
    patience: float,
    slack_429: int,
    database: str = "sqlite",
    give_up: float = 0.0,
    profile: str | None = None,
    mode: str = "inline",
    url: str | None = None,
) -> Storm | None:
    """Run one storm of ``n`` joins on ``platform`` and count what arrived (None: no
    PostgreSQL to run it on); ``mode`` is where Steward runs (``MODES``); ``url``: a new
    database of that kind to run on (else a fresh one is made); ``profile``: write cProfile's
    statistics of the storm (not the setup) in this process to that file."""
    made = url is None and database == "postgresql"
    with tempfile.TemporaryDirectory() as tmp:
        if url is None and database == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'steward.db'}"
        elif url is None:
            # The process id in the name: two storms running side by side get one each.
            url = await fresh_pg_database(f"bench_joinstorm_{platform}_{os.getpid()}")
        if url is None:
            return None
        try:
            return await _storm(
                platform,
                database,
                url,
                n,
                patience=patience,
                slack_429=slack_429,
                give_up=give_up,
                profile=profile,
                mode=mode,
                tmp=tmp,
            )
        finally:
            if made:
                await drop_pg_database(url.rpartition("/")[2])


@dataclass
class _Stage:
    """Where a storm runs: the community the driver acts on and reads (the fake's side), whether
    Steward still has work in hand, and Steward's own CPU seconds when they can be told apart
    from this process's (``steward_cpu``: process mode only)."""

    community: Any
    busy: Callable[[], Awaitable[bool]]
    steward_cpu: Callable[[], float] | None = None


@contextlib.asynccontextmanager
async def _inline(platform: str, url: str) -> AsyncIterator[_Stage]:
    """The App in this process, beside the fake and the driver (the scenario's community)."""
    from bot.builtin import Steward
    from cogs.onboarding import Onboarding
    from sandbox.scenario import open_community

    async with open_community(platform, url, [Steward(), Onboarding()]) as community:
        done = await community.slash(
            community.people["ada"],
            "steward settings set",
            feature="onboarding",
            key="welcome_channel",
            value=community.channel_mention("welcome"),
        )
        assert "is now" in done.text, done.text
        activity = community.app.dispatcher.activity

        async def busy() -> bool:
            return activity.busy > 0

        yield _Stage(community, busy)


@contextlib.asynccontextmanager
async def _process(platform: str, url: str, log: Path) -> AsyncIterator[_Stage]:
    """``python -m bot run`` as its own process (onboarding only), the fake and the driver here.

    The fake is seeded as the scenario seeds it and Steward is pointed at it with
    ``steward_env``; the manager sets the welcome channel through the fake, as in the kill matrix.
    The community read here is the scenario's view of the fake with no App behind it (Steward
    is in the other process): it is only read, never settled. Steward has work in hand while its
    database holds a pending delivery or an event not yet handled (Slack's inbox).
    """
    from sqlalchemy import func, select

    from bench.kill_matrix import DiscordSide, SlackSide, _configure
    from bot.builtin import Steward
    from bot.db.engine import Database
    from bot.db.models import InboxEvent, OutboxItem
    from bot.db.schema import upgrade
    from cogs.onboarding import Onboarding
    from sandbox.process import start_steward, steward_env
    from sandbox.scenario import DiscordCommunity, SlackCommunity
    from sandbox.scenario._open import _manifest_scopes, _seed_discord, _seed_slack

    await upgrade(url)
    async with contextlib.AsyncExitStack() as stack:
        community: Any
        side: Any
        if platform == "discord":
            from sandbox.discord import FakeDiscord

            fake = await stack.enter_async_context(FakeDiscord())
            guild, people, settings = _seed_discord(fake)
            community = DiscordCommunity(None, None, fake, guild)  # type: ignore[arg-type]
            side, welcome = DiscordSide(fake, guild, people), guild.channel_named("welcome")
        else:
            from sandbox.slack import FakeSlack

            fake = await stack.enter_async_context(FakeSlack())
            channels, people, settings = _seed_slack(fake)
            fake.grant_bot_scopes(_manifest_scopes([Steward(), Onboarding()]))
            community = SlackCommunity(None, None, fake)  # type: ignore[arg-type]
            community.channels.update(channels)
            side, welcome = SlackSide(fake, channels, people), channels["welcome"]
        community.people.update(people)
        env = steward_env(settings, STEWARD_DATABASE_URL=url, STEWARD_FEATURES="onboarding")
        try:
            process = await start_steward(env, log)
            stack.push_async_callback(_stop, process)
            await _configure(side, welcome.id)
        except Exception:  # it did not start, or never answered the manager: say why
            _print_log(log)
            raise
        db = Database(url)
        stack.push_async_callback(db.dispose)

        async def busy() -> bool:
            async with db.uow() as uow:
                pending = select(func.count()).where(OutboxItem.status == "pending")
                inbox = select(func.count()).select_from(InboxEvent)
                waiting = await uow.session.scalar(pending)
                return bool(waiting or await uow.session.scalar(inbox))

        yield _Stage(community, busy, lambda: _cpu_seconds(process.pid))


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux: its ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """End Steward's process as an operator would (SIGTERM), then for good if it lingers."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _print_log(log: Path, lines: int = 20) -> None:
    """The end of Steward's log (its temporary directory goes with the storm)."""
    if log.exists():
        print(f"the end of Steward's log ({log}):")
        print(*log.read_text(errors="replace").splitlines()[-lines:], sep="\n")


async def _storm(
    platform: str,
    database: str,
    url: str,
    n: int,
    *,
    patience: float,
    slack_429: int,
    give_up: float = 0.0,
    profile: str | None = None,
    mode: str = "inline",
    tmp: str = "",
) -> Storm:
    if mode not in MODES:
        raise ValueError(f"Steward runs {' or '.join(MODES)}, not {mode!r}")
    log = Path(tmp) / f"steward-{platform}-{database}.log"
    stage = _inline(platform, url) if mode == "inline" else _process(platform, url, log)
    async with stage as staged:
        done = await _drive(
            staged,
            platform,
            database,
            n,
            patience=patience,
            slack_429=slack_429,
            give_up=give_up,
            profile=profile,
        )
    if mode == "process" and (done.lost or done.duplicates):
        _print_log(log)
    return dataclasses.replace(done, mode=mode)


async def _drive(
    stage: _Stage,
    platform: str,
    database: str,
    n: int,
    *,
    patience: float,
    slack_429: int,
    give_up: float = 0.0,
    profile: str | None = None,
) -> Storm:
    """The storm itself, whichever process Steward runs in: everyone joins, the driver watches
    the welcomes arrive at the fake, then counts them."""
    import cProfile

    from bot.core import Level
    from sandbox.scenario import Person

    community = stage.community
    fake: Any = community.fake
    if platform == "slack" and slack_429:
        fake.faults.rate_limit(slack_429, retry_after=1, method="chat.postMessage")
    before = _rate_limited(platform, fake)
    names = [f"guest{i}" for i in range(n)]
    dm_arrived = _watch_dms(community)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    cpu_started = time.process_time()
    steward_started = stage.steward_cpu() if stage.steward_cpu else 0.0
    if profiler is not None:
        profiler.enable()
    joined = await _join_all(community, names)
    arrival = time.perf_counter() - started
    people = {
        uid: Person(f"guest{i}", Level.MEMBER, uid, fake.world.users[uid])
        for i, uid in enumerate(joined)
    }
    latencies: dict[str, float] = {}
    seen = 0
    last_change = time.perf_counter()
    while True:
        raw = _raw_welcomes(community)
        now = time.perf_counter()
        for message in raw[seen:]:  # only what is new: the driver stays off the CPU
            text = community._posted(message).text
            for uid in _MENTION.findall(text) if "Welcome to" in text else ():
                if uid in joined and uid not in latencies:
                    latencies[uid] = now - joined[uid]
        if len(raw) != seen:
            seen, last_change = len(raw), now
        # Counting DMs walks every IM (the fake's lookup is linear): only once each member's
        # first DM arrived and Steward is idle, so the driver's polling does not take the CPU
        # Steward is being measured on.
        if (
            len(latencies) == n
            and len(dm_arrived) >= n
            and not await stage.busy()
            and sum(len(community.dms_of(p)) for p in people.values()) >= n
        ):
            break
        if now - last_change > patience and (now - started > 600 or not await stage.busy()):
            break  # stalled: what is missing now is lost
        if give_up and now - started > give_up:
            print(f"stopped waiting after {give_up:.0f} s: what is missing was still queued")
            break
        await asyncio.sleep(0.05)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile or "")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    steward_cpu = stage.steward_cpu() - steward_started if stage.steward_cpu else None
    public_count, dm_count = _tally(community, people)
    rate_limited = _rate_limited(platform, fake) - before
    welcomes = duplicates = lost = exactly = 0
    for uid in joined:
        c, d = public_count.get(uid, 0), dm_count.get(uid, 0)
        welcomes += c + d
        duplicates += max(c - 1, 0) + max(d - 1, 0)
        lost += (c == 0) + (d == 0)
        exactly += c == 1 and d == 1
    return Storm(
        platform,
        database,
        n,
        welcomes,
        duplicates,
        lost,
        exactly,
        rate_limited,
        elapsed,
        sorted(latencies.values()),
        arrival,
        cpu,
        tuple(sorted(dm_arrived[uid] - joined[uid] for uid in joined if uid in dm_arrived)),
        steward_cpu=steward_cpu,
    )


def _rate_limited(platform: str, fake: Any) -> int:
    if platform == "discord":
        return sum(1 for r in fake.rest.log if r.status == 429)
    return sum(1 for c in fake.calls if c.status == 429)


async def measure(
    n: int,
    *,
    patience: float = 30.0,
    slack_429: int = 5,
    platforms: tuple[str, ...] = ("discord", "slack"),
    databases: tuple[str, ...] = ("sqlite", "postgresql"),
    give_up: float = 0.0,
    each: bool = False,
    profile: str | None = None,
    modes: tuple[str, ...] = ("inline",),
) -> list[Storm]:
    """One storm on each platform and database, in each of ``modes`` (one after the other on
    the same platform and database, each on a fresh one)."""
    os.environ.setdefault("STEWARD_PLATFORM_SPEED", "50")  # see the module's docstring
    os.environ.setdefault("STEWARD_SANDBOX_VALIDATION", "fast")  # see the module's docstring
    storms = []
    for database in databases:
        for platform in platforms:
            for mode in modes:
                done = await storm(
                    platform,
                    n,
                    patience=patience,
                    slack_429=slack_429,
                    database=database,
                    give_up=give_up,
                    profile=profile and f"{profile}.{platform}.{database}.{mode}",
                    mode=mode,
                )
                if done is None:
                    print(f"no PostgreSQL at {PG_URL}: the {platform} storm on it is left out")
                    break
                storms.append(done)
                if each:
                    print_storms([done])  # as each ends: a long run shows what it has so far
                    sys.stdout.flush()
    return storms


def print_storms(storms: list[Storm]) -> None:
    """The storm table."""
    header = (
        "platform",
        "database",
        "Steward",
        "joins",
        "welcomes",
        "duplicates",
        "lost",
        "exactly once",
        "p50 s",
        "p99 s",
        "DM p50",
        "DM p99",
        "429s",
        "s",
        "arrive s",
        "joins/s",
        "CPU ms/join",
        "Steward CPU ms/join",
    )
    lines = [header] + [
        (
            s.platform,
            s.database,
            s.mode,
            str(s.joins),
            f"{s.welcomes}/{2 * s.joins}",
            str(s.duplicates),
            str(s.lost),
            str(s.exactly_once),
            f"{percentile_ms(s.latencies, 0.5) / 1000:.2f}",
            f"{percentile_ms(s.latencies, 0.99) / 1000:.2f}",
            f"{percentile_ms(list(s.dm_latencies), 0.5) / 1000:.2f}",
            f"{percentile_ms(list(s.dm_latencies), 0.99) / 1000:.2f}",
            str(s.rate_limited),
            f"{s.elapsed:.1f}",
            f"{s.arrival:.1f}",
            f"{s.joins / s.elapsed:.1f}",
            f"{1000 * s.cpu / s.joins:.0f}",
            "-" if s.steward_cpu is None else f"{1000 * s.steward_cpu / s.joins:.0f}",
        )
        for s in storms
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def run(n: int = 500) -> list[Row]:
    """The entry ``bench.run`` calls."""
    storms = asyncio.run(measure(n))
    return [
        Row(
            NAME,
            f"{s.platform} {s.database}",
            s.joins,
            percentile_ms(s.latencies, 0.5),
            percentile_ms(s.latencies, 0.99),
            s.exactly_once / s.joins,
            s.welcomes / (2 * s.joins),
        )
        for s in storms
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both storms, print the table; exit 1 unless everyone was welcomed exactly once."""
    parser = argparse.ArgumentParser(prog="python -m bench.onboarding_joinstorm")
    parser.add_argument("--n", type=int, default=500, help="joins per platform")
    parser.add_argument("--patience", type=float, default=30.0, help="seconds without progress")
    parser.add_argument("--slack-429", type=int, default=5, help="429s injected on Slack")
    parser.add_argument("--only", choices=("discord", "slack"), help="one platform only")
    parser.add_argument(
        "--give-up",
        type=float,
        default=0.0,
        help="stop waiting after this many seconds (what is missing then counts as lost)",
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), help="one database only (default both)"
    )
    parser.add_argument(
        "--steward",
        choices=("process", "inline", "both"),
        default="process",
        help="where Steward runs: its own process (as in production; the default), this one "
        "beside the fake (inline, as bench.run and earlier figures), or both, one after the other",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="write cProfile statistics of this process during each storm (not its setup) to "
        "PREFIX.<platform>.<db>.<mode> (in process mode: the fake and the driver only)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    platforms = (args.only,) if args.only else ("discord", "slack")
    databases = (args.database,) if args.database else ("sqlite", "postgresql")
    modes = MODES if args.steward == "both" else (args.steward,)
    storms = asyncio.run(
        measure(
            args.n,
            patience=args.patience,
            slack_429=args.slack_429,
            platforms=platforms,
            databases=databases,
            give_up=args.give_up,
            each=len(platforms) * len(databases) * len(modes) > 1,
            profile=args.profile,
            modes=modes,
        )
    )
    print()
    print_storms(storms)
    ok = all(s.exactly_once == s.joins and not s.duplicates and not s.lost for s in storms)
    print("every member welcomed exactly once" if ok else "SOME MEMBERS WERE NOT WELCOMED ONCE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
