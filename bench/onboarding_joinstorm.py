"""A join storm through both fakes: every newcomer welcomed exactly once, nothing lost.

The real App with onboarding (welcome channel set, ``welcome_where=both``: a public welcome and
a DM each) serves the fake Discord, then the fake Slack, on a fresh SQLite file and on a fresh
PostgreSQL database (``STEWARD_TEST_POSTGRES_URL``'s server; left out when none answers). ``n``
people join as fast as the fake can announce them (harder than the issue's "500 in a minute"); the
driver then waits until every welcome arrived or nothing moved for ``--patience`` seconds, and
counts per member: a public welcome names several newcomers when their welcomes waited for the
channel together (a burst's shared post), and each member named counts once. 429s are what the
fakes answered: the fakes enforce the platforms' limits (5 messages per 5 s per Discord channel,
50 requests a second; 1 post a second per Slack channel), run 50 times faster here
(``STEWARD_PLATFORM_SPEED``, unless set; Steward paces to the same speed), or 500 welcomes in
one channel would take 500 s. ``--slack-429`` injects that many more
``ratelimited`` answers to chat.postMessage to show they cost time, not welcomes.

``python -m bench.onboarding_joinstorm [--n 500] [--database sqlite|postgresql]`` prints the
storm table, with p50/p99 join-to-public-welcome latency per run and p50/p99 join-to-welcome-DM
(the moment the fake stored it); ``run(n)`` gives
bench/run.py rows where p50/p99 are join-to-public-welcome latency (poll granularity 50 ms),
``ratio p50`` is the share of members welcomed exactly once (channel and DM; 1.00 is the goal)
and ``ratio p99`` the welcome messages delivered over those expected.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import PG_URL, Row, drop_pg_database, fresh_pg_database, percentile_ms

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAME = "onboarding_joinstorm"
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
    cpu: float = 0.0  # CPU seconds of the whole process (Steward, the fake, the driver) meanwhile
    dm_latencies: tuple[float, ...] = ()  # join to welcome DM, per member who got one


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
) -> Storm | None:
    """Run one storm of ``n`` joins on ``platform`` and count what arrived (None: no
    PostgreSQL to run it on); ``profile``: write cProfile's statistics of the storm (not the
    setup) to that file."""
    with tempfile.TemporaryDirectory() as tmp:
        if database == "sqlite":
            url: str | None = f"sqlite+aiosqlite:///{Path(tmp) / 'steward.db'}"
        else:
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
            )
        finally:
            if database == "postgresql":
                await drop_pg_database(url.rpartition("/")[2])


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
) -> Storm:
    import cProfile

    from bot.builtin import Steward
    from bot.core import Level
    from cogs.onboarding import Onboarding
    from sandbox.scenario import Person, open_community

    async with open_community(platform, url, [Steward(), Onboarding()]) as community:
        ada = community.people["ada"]
        done = await community.slash(
            ada,
            "steward settings set",
            feature="onboarding",
            key="welcome_channel",
            value=community.channel_mention("welcome"),
        )
        assert "is now" in done.text, done.text
        fake: Any = community.fake  # type: ignore[attr-defined]
        if platform == "slack" and slack_429:
            fake.faults.rate_limit(slack_429, retry_after=1, method="chat.postMessage")
        before = _rate_limited(platform, fake)
        names = [f"guest{i}" for i in range(n)]
        dm_arrived = _watch_dms(community)
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        cpu_started = time.process_time()
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
        activity = community.app.dispatcher.activity
        while True:
            raw = _raw_welcomes(community)
            now = time.perf_counter()
            for message in raw[seen:]:  # only what is new: the driver stays off the CPU
                text = community._posted(message).text  # type: ignore[attr-defined]
                for uid in _MENTION.findall(text) if "Welcome to" in text else ():
                    if uid in joined and uid not in latencies:
                        latencies[uid] = now - joined[uid]
            if len(raw) != seen:
                seen, last_change = len(raw), now
            # Counting DMs walks every IM (the fake's lookup is linear): only at the end, so
            # the driver's polling does not take the CPU Steward is being measured on.
            if (
                len(latencies) == n
                and activity.busy == 0
                and sum(len(community.dms_of(p)) for p in people.values()) >= n
            ):
                break
            if now - last_change > patience and (activity.busy == 0 or now - started > 600):
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
) -> list[Storm]:
    """One storm on each platform and database."""
    os.environ.setdefault("STEWARD_PLATFORM_SPEED", "50")  # see the module's docstring
    os.environ.setdefault("STEWARD_SANDBOX_VALIDATION", "fast")  # see the module's docstring
    storms = []
    for database in databases:
        for platform in platforms:
            done = await storm(
                platform,
                n,
                patience=patience,
                slack_429=slack_429,
                database=database,
                give_up=give_up,
                profile=profile and f"{profile}.{platform}.{database}",
            )
            if done is None:
                print(f"no PostgreSQL at {PG_URL}: the {platform} storm on it is left out")
            else:
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
    )
    lines = [header] + [
        (
            s.platform,
            s.database,
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
        "--profile",
        metavar="PREFIX",
        help="write cProfile statistics of each storm (not its setup) to PREFIX.<platform>.<db>",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    platforms = (args.only,) if args.only else ("discord", "slack")
    databases = (args.database,) if args.database else ("sqlite", "postgresql")
    storms = asyncio.run(
        measure(
            args.n,
            patience=args.patience,
            slack_429=args.slack_429,
            platforms=platforms,
            databases=databases,
            give_up=args.give_up,
            each=len(platforms) * len(databases) > 1,
            profile=args.profile,
        )
    )
    print()
    print_storms(storms)
    ok = all(s.exactly_once == s.joins and not s.duplicates and not s.lost for s in storms)
    print("every member welcomed exactly once" if ok else "SOME MEMBERS WERE NOT WELCOMED ONCE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
