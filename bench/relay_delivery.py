"""A burst of posts through Steward's outbox against fakes that limit like the platforms.

``python -m bench.relay_delivery [--posts 3000] [--channels 200] [--largest 150] [--speed 4]``

3,000 posts to 200 channels, the channels' sizes Zipf-distributed with the largest at 150, all
queued in one transaction (as a relay that fans a burst of items out to its destinations does)
and sent by the real App (outbox, discord.py, slack_sdk) to a fake Discord, then a fake Slack.

* **T_min**, the least time the limits allow, computed for this run's sizes: on Discord
  ``max(N / 50, 5 * floor((n_max - 1) / 5))`` (50 requests a second; 5 messages per 5 s per
  channel, a window starting with its first message); on Slack ``n_max - 1`` seconds (one post a
  second per channel, no burst).
* **Steward**: from the commit to the last post arriving at the fake (polled every 20 ms).
* **naive**: a loop that sends each post and awaits it, in the same order, through bare
  discord.py (it waits out Discord's buckets from the headers) or slack_sdk with its
  rate-limit retry handler (it sleeps ``Retry-After`` plus up to 1 s of jitter), against a fresh
  fake. It stops at ``--naive-cap`` × T_min; then it shows how far it got.
* **429s**: what the fake answered, outside shared scope; the goal for Steward is 0.
* **order**: every channel received its posts in the order they were queued, each once.

**Scaled clock.** At the platforms' own speed one run takes about 5 minutes per platform (the
largest channel alone needs 145 s on Discord, 149 s on Slack). ``--speed S`` runs every limit
window S times faster, on both sides and honestly: the fakes' windows last 5/S s and 1/S s, their
headers (``X-RateLimit-Reset-After``, ``retry_after``) report those real waits, and Steward reads
the same ``STEWARD_PLATFORM_SPEED`` to pace Discord's global limit (50 per 1/S s) and Slack's
channels (1 per 1/S s). T_min is scaled by the same S. Slack's ``Retry-After`` stays in whole
seconds, as Slack sends it, so a client that earns a 429 loses a real second there.
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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAME = "relay_delivery"


def zipf_sizes(posts: int, channels: int, largest: int) -> list[int]:
    """Channel sizes ~ 1/rank^s summing to ``posts``, the largest exactly ``largest``.

    The exponent is found by bisection so that the first rank's share is ``largest / posts``;
    sizes are rounded by largest remainder, every channel gets at least one post.
    """
    if not channels <= posts <= channels * largest:
        raise ValueError("posts must fit: at least one and at most `largest` per channel")

    def share(s: float) -> float:
        return 1.0 / sum(rank**-s for rank in range(1, channels + 1))

    lo, hi = 0.0, 5.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if share(mid) * posts < largest else (lo, mid)
    s = (lo + hi) / 2
    weights = [rank**-s for rank in range(2, channels + 1)]
    rest = posts - largest - (channels - 1)  # one each is given up front
    raw = [rest * w / sum(weights) for w in weights]
    sizes = [1 + int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True):
        if sum(sizes) >= posts - largest:
            break
        sizes[i] += 1
    return [largest, *sorted((min(x, largest) for x in sizes), reverse=True)]


def burst_order(sizes: list[int], seed: int) -> list[tuple[int, int]]:
    """Every (channel, sequence number) once, shuffled across channels, in order within one."""
    rng = random.Random(seed)
    slots = [c for c, n in enumerate(sizes) for _ in range(n)]
    rng.shuffle(slots)
    seen = [0] * len(sizes)
    order = []
    for c in slots:
        order.append((c, seen[c]))
        seen[c] += 1
    return order


def t_min(platform: str, sizes: list[int], speed: float) -> float:
    """The least time the limits allow for these sizes, in real seconds at ``speed``."""
    largest = max(sizes)
    if platform == "discord":
        return max(sum(sizes) / 50, 5 * ((largest - 1) // 5)) / speed
    return (largest - 1) / speed


@dataclass
class Outcome:
    """One variant's run."""

    platform: str
    variant: str
    seconds: float
    sent: int
    rate_limited: int  # 429s outside shared scope
    in_order: bool
    duplicates: int


def _check(texts: dict[int, list[str]], sizes: list[int]) -> tuple[bool, int, int]:
    """(every channel in order, duplicates, delivered) from each channel's message texts."""
    in_order, duplicates, delivered = True, 0, 0
    for c, got in texts.items():
        seqs = [int(t.split(":")[1]) for t in got if t.startswith(f"post {c}:")]
        duplicates += len(seqs) - len(set(seqs))
        delivered += len(set(seqs))
        in_order &= seqs == sorted(seqs) and len(seqs) <= sizes[c]
    return in_order, duplicates, delivered


async def _until_all(count: Callable[[], int], expected: int, cap: float) -> float:
    """When (perf_counter) the count last grew, once it reached ``expected`` or ``cap`` passed."""
    start = time.perf_counter()
    last, last_at = -1, start
    while True:
        now = time.perf_counter()
        got = count()
        if got != last:
            last, last_at = got, now
        if got >= expected or now - start > cap:
            return last_at
        await asyncio.sleep(0.02)


async def _burst(
    app: Any, community: Any, ids: list[str], order: list[Any], count: Any, cap: float
) -> float:
    """Queue the burst and wait for it; seconds from the commit to the last post's arrival."""
    committed = asyncio.get_running_loop().create_future()
    queued = asyncio.create_task(_queue(app, community, ids, order, committed))
    last = await _until_all(count, len(order), cap + 60)
    await queued
    return last - committed.result()


@contextlib.asynccontextmanager
async def _steward(settings: dict[str, Any], database: Path) -> AsyncIterator[Any]:
    from bot.app import App
    from bot.config import Config
    from bot.core.clock import SystemClock

    app = App(
        Config(_env_file=None, database_url=f"sqlite+aiosqlite:///{database}", **settings),
        clock=SystemClock(),
        features=[],
        discord_options={"guild_ready_timeout": 0.05},
    )
    await app.start(background=False)
    try:
        yield app
    finally:
        await app.stop()


async def _queue(
    app: Any, community: Any, channel_ids: list[str], order: list[Any], committed: Any
) -> None:
    """Queue every post in one transaction, as a fan-out handler does; sending starts at the
    commit (each lane's first post right away, the rest in the background)."""
    from bot.core.communities import ensure_community
    from bot.core.ids import ChannelRef
    from bot.core.message import Message
    from bot.core.outbox import Outbox

    deliverer = app.dispatcher.deliverer
    async with app.db.uow() as uow:
        await ensure_community(uow.session, community, app.clock.now())
        outbox = Outbox(uow, community, "announcements", app.clock, deliverer)
        for c, k in order:
            key = f"{c}:{k}"
            target = ChannelRef(community, channel_ids[c])
            await outbox.deliver(target, Message(f"post {key}"), key=key)
        committed.set_result(time.perf_counter())
        await uow.commit()


async def discord_steward(sizes: list[int], order: list[Any], speed: float, tmp: Path) -> Outcome:
    """The burst through Steward against the fake Discord."""
    from bot.core.ids import CommunityRef
    from sandbox.discord import FakeDiscord
    from sandbox.scenario._open import _seed_discord, _watch_discord_client

    async with FakeDiscord(validate=False, speed=speed) as fake:
        guild, _people, settings = _seed_discord(fake)
        channels = [fake.add_channel(guild, f"relay-{c:03d}") for c in range(len(sizes))]
        async with _steward(settings, tmp / "discord.db") as app:
            _watch_discord_client(app, fake)
            await fake.settle()
            before = dict(fake.rest.limits.counts)
            ids = [ch.id for ch in channels]

            def count() -> int:
                return sum(len(fake.messages_in(ch)) for ch in channels)

            community = CommunityRef("discord", guild.id)
            cap = 20 * t_min("discord", sizes, speed)
            seconds = await _burst(app, community, ids, order, count, cap)
            texts = {c: [m.content for m in fake.messages_in(ch)] for c, ch in enumerate(channels)}
            counts = fake.rest.limits.counts
            limited = sum(v - before.get(k, 0) for k, v in counts.items() if k != "shared")
    in_order, duplicates, delivered = _check(texts, sizes)
    return Outcome("discord", "Steward", seconds, delivered, limited, in_order, duplicates)


async def discord_naive(sizes: list[int], order: list[Any], speed: float, cap: float) -> Outcome:
    """Send and await each post through bare discord.py (it honours the buckets' headers)."""
    import discord

    from bot.adapters.discord.endpoints import configure_endpoints
    from sandbox.discord import FakeDiscord

    async with FakeDiscord(validate=False, speed=speed) as fake:
        guild = fake.add_guild("naive", owner=fake.owner)
        channels = [fake.add_channel(guild, f"relay-{c:03d}") for c in range(len(sizes))]
        configure_endpoints(fake.api_base, fake.gateway_url)
        client = discord.Client(intents=discord.Intents.none())
        await client.login(fake.token)
        try:
            start = time.perf_counter()
            for c, k in order:
                if time.perf_counter() - start > cap:
                    break
                target = client.get_partial_messageable(int(channels[c].id))
                await target.send(f"post {c}:{k}")
            seconds = time.perf_counter() - start
        finally:
            await client.close()
        texts = {c: [m.content for m in fake.messages_in(ch)] for c, ch in enumerate(channels)}
        limited = sum(v for k, v in fake.rest.limits.counts.items() if k != "shared")
    in_order, duplicates, delivered = _check(texts, sizes)
    return Outcome("discord", "naive loop", seconds, delivered, limited, in_order, duplicates)


async def slack_steward(sizes: list[int], order: list[Any], speed: float, tmp: Path) -> Outcome:
    """The burst through Steward against the fake Slack."""
    from bot.core.ids import CommunityRef
    from sandbox.scenario._open import _seed_slack
    from sandbox.slack import FakeSlack

    async with FakeSlack(validate=False, speed=speed, echo_bot_messages=False) as fake:
        _channels, _people, settings = _seed_slack(fake)
        channels = [fake.add_channel(f"relay-{c:03d}") for c in range(len(sizes))]
        async with _steward(settings, tmp / "slack.db") as app:
            await fake.wait_for(lambda: fake.socket.connected)
            ids = [ch.id for ch in channels]

            def count() -> int:
                return sum(len(fake.messages_in(ch.id)) for ch in channels)

            community = CommunityRef("slack", fake.team.id)
            cap = 20 * t_min("slack", sizes, speed)
            seconds = await _burst(app, community, ids, order, count, cap)
            texts = {c: [m.text for m in fake.messages_in(ch.id)] for c, ch in enumerate(channels)}
            limited = sum(1 for call in fake.calls_to("chat.postMessage") if call.status == 429)
    in_order, duplicates, delivered = _check(texts, sizes)
    return Outcome("slack", "Steward", seconds, delivered, limited, in_order, duplicates)


async def slack_naive(sizes: list[int], order: list[Any], speed: float, cap: float) -> Outcome:
    """Send and await each post through slack_sdk with its rate-limit retry handler."""
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from sandbox.slack import FakeSlack

    # Steward's Slack adapter, imported for the Steward run, has slack_sdk log at INFO: one
    # line for each 429 the loop's client retries.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    async with FakeSlack(validate=False, speed=speed, echo_bot_messages=False) as fake:
        channels = [fake.add_channel(f"relay-{c:03d}") for c in range(len(sizes))]
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=100))
        start = time.perf_counter()
        for c, k in order:
            if time.perf_counter() - start > cap:
                break
            await client.chat_postMessage(channel=channels[c].id, text=f"post {c}:{k}")
        seconds = time.perf_counter() - start
        texts = {c: [m.text for m in fake.messages_in(ch.id)] for c, ch in enumerate(channels)}
        limited = sum(1 for call in fake.calls_to("chat.postMessage") if call.status == 429)
    in_order, duplicates, delivered = _check(texts, sizes)
    return Outcome("slack", "naive loop", seconds, delivered, limited, in_order, duplicates)


def _table(rows: list[tuple[Outcome, float]], posts: int) -> None:
    header = ("platform", "variant", "sent", "seconds", "T_min s", "× T_min", "429s", "order")
    lines = [header]
    for o, floor in rows:
        sent = f"{o.sent}/{posts}" + (f" ({o.duplicates} dup)" if o.duplicates else "")
        lines.append(
            (
                o.platform,
                o.variant,
                sent,
                f"{o.seconds:.2f}" + ("+" if o.sent < posts else ""),
                f"{floor:.2f}",
                f"{o.seconds / floor:.3f}" + ("+" if o.sent < posts else ""),
                str(o.rate_limited),
                "kept" if o.in_order else "BROKEN",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


async def _main(args: argparse.Namespace) -> int:
    os.environ["STEWARD_PLATFORM_SPEED"] = str(args.speed)  # Steward's Config reads it too
    sizes = zipf_sizes(args.posts, args.channels, args.largest)
    order = burst_order(sizes, args.seed)
    platforms = args.platform or ["discord", "slack"]
    print(
        f"# {args.posts} posts to {args.channels} channels (largest {sizes[0]}, then "
        f"{sizes[1]}, {sizes[2]}, ... smallest {sizes[-1]}), speed {args.speed}: limit windows "
        f"{args.speed}x shorter on both sides, T_min scaled alike"
    )
    rows: list[tuple[Outcome, float]] = []
    with tempfile.TemporaryDirectory(prefix="steward-relay-") as tmp:
        for platform in platforms:
            floor = t_min(platform, sizes, args.speed)
            steward = discord_steward if platform == "discord" else slack_steward
            rows.append((await steward(sizes, order, args.speed, Path(tmp)), floor))
            if not args.no_naive:
                naive = discord_naive if platform == "discord" else slack_naive
                rows.append((await naive(sizes, order, args.speed, args.naive_cap * floor), floor))
    _table(rows, args.posts)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the burst and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.relay_delivery")
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--largest", type=int, default=150)
    parser.add_argument("--speed", type=float, default=4.0, help="limit windows this much shorter")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--platform", action="append", choices=["discord", "slack"])
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loops")
    parser.add_argument(
        "--naive-cap", type=float, default=3.0, help="stop a naive loop after this × T_min"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
