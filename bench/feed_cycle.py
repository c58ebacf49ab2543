"""One poll cycle over many feeds, Steward against the naive relay: ``python -m bench.feed_cycle``.

A feed server runs in its own process (its CPU is not counted) and serves 2,000 feeds (RSS,
Atom and JSON Feed, 100 items of about 1 KB each) under 20 host names. After a first cycle
primes both relays, the feeds change: 95% not at all (304), 4% gain 1 to 3 items, 1% change
their bytes but keep their ids. Then one cycle is measured for each relay, in the same run:

- naive: unconditional GETs, ``feedparser.parse`` with its defaults, an in-memory seen set
  (measured on a sample of the feeds and scaled, since it costs ~100 times more);
- Steward: conditional GETs through the guarded fetcher, ``parse_feed``, ``decide``.

Client CPU (``time.process_time``) per cycle, CPU per unchanged feed (from an all-304 cycle),
false-new and missed items against the server's ledger, and the most requests any host saw at once.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import random
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser
from aiohttp import ClientSession, web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.core.guard import AddressPolicy
from cogs.announcements._fetch import Fetcher, Limits, Validators
from cogs.announcements._identity import Policy, decide
from cogs.announcements._source import read_feed
from sandbox.feeds import FeedServer

HOSTS = 20
ITEMS = 100
NOW = datetime(2026, 12, 6, tzinfo=UTC)
DATE = "Sun, 06 Dec 2026 10:00:00 GMT"
ATOM = "http://www.w3.org/2005/Atom"
PARA = "<p>Steward relays this announcement. <a href='/more'>Read more</a> about it. " * 12 + "</p>"


def document(n: int, top: int, rev: int) -> tuple[bytes, str]:
    """Feed ``n`` with item numbers ``top`` down to ``top - 99``; ``rev`` changes bytes only."""
    ids = [f"feed{n}-item{k}" for k in range(top, top - ITEMS, -1)]
    kind = n % 3
    text = PARA + f"<!-- rev {rev} -->"
    if kind == 2:
        items = [
            {"id": i, "url": f"https://e.org/{i}", "title": i, "content_html": text} for i in ids
        ]
        body = {"version": "https://jsonfeed.org/version/1.1", "title": f"Feed {n}", "items": items}
        return json.dumps(body).encode(), "application/feed+json"
    esc = text.replace("&", "&amp;").replace("<", "&lt;")
    if kind == 0:
        entries = "".join(
            f"<item><guid>{i}</guid><title>{i}</title><link>https://e.org/{i}</link>"
            f"<description>{esc}</description><pubDate>{DATE}</pubDate></item>"
            for i in ids
        )
        rss = f"<rss version='2.0'><channel><title>Feed {n}</title>{entries}</channel></rss>"
        return rss.encode(), "application/rss+xml"
    entries = "".join(
        f"<entry><id>{i}</id><title>{i}</title><link href='https://e.org/{i}'/>"
        f"<updated>2026-12-06T10:00:00Z</updated><summary type='html'>{esc}</summary></entry>"
        for i in ids
    )
    atom = f"<feed xmlns='{ATOM}'><title>Feed {n}</title>{entries}</feed>"
    return atom.encode(), "application/atom+xml"


def serve(port_out: Any, feeds: int) -> None:
    """The server process: feeds, a /plan endpoint that changes them, /stats for its counters."""

    async def main() -> None:
        # A little latency, so requests overlap and the per-host limit is really exercised.
        server = FeedServer("127.0.0.1", latency=0.002)
        state = {n: [ITEMS, 0] for n in range(feeds)}
        for n in range(feeds):
            body, kind = document(n, ITEMS, 0)
            server.put(f"/f/{n}", body, kind)

        async def plan(request: web.Request) -> web.Response:
            for key, (new, rev) in (await request.json()).items():
                n = int(key)
                state[n][0] += new
                state[n][1] += rev
                body, kind = document(n, *state[n])
                server.put(f"/f/{n}", body, kind)
            server.max_in_flight.clear()
            return web.json_response({})

        async def stats(request: web.Request) -> web.Response:
            return web.json_response(
                {"max_in_flight": max(server.max_in_flight.values(), default=0)}
            )

        server.on("/plan", plan)
        server.on("/stats", stats)
        await server.start()
        port_out.send(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


class BenchDns(AbstractResolver):
    """h0.bench ... h19.bench all live on 127.0.0.1."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def url(port: int, n: int) -> str:
    """Feed ``n``'s URL, on one of the 20 host names."""
    return f"http://h{n % HOSTS}.bench:{port}/f/{n}"


class Steward:
    """Steward's relay state: validators and seen maps per feed."""

    def __init__(self, port: int, per_host: int) -> None:
        self.port = port
        self.fetcher = Fetcher(
            AddressPolicy.allowing(["127.0.0.1/32"], any_port=True),
            limits=Limits(per_host=per_host),
            resolver=BenchDns(),
        )
        self.validators: dict[int, Validators] = {}
        self.seen: dict[int, dict[str, str]] = {}

    async def poll(self, n: int) -> list[str]:
        reading = await read_feed(self.fetcher, url(self.port, n), self.validators.get(n))
        if reading.fetched is not None:
            self.validators[n] = reading.fetched.validators
        if reading.feed is None:
            return []
        first = n not in self.seen
        verdict = decide(reading.feed.items, self.seen.get(n, {}), Policy(), NOW, first=first)
        self.seen[n] = verdict.seen
        return [i.guid or "" for i in verdict.post]

    async def cycle(self, feeds: range) -> tuple[float, list[str]]:
        start = time.process_time()
        posted = await asyncio.gather(*(self.poll(n) for n in feeds))
        return time.process_time() - start, [g for found in posted for g in found]


class Naive:
    """The naive relay: GET everything, feedparser with defaults, a seen set."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seen: set[tuple[int, str]] = set()
        self.session: ClientSession | None = None

    async def poll(self, n: int, gate: asyncio.Semaphore) -> list[str]:
        assert self.session is not None
        async with gate, self.session.get(f"http://127.0.0.1:{self.port}/f/{n}") as resp:
            body = await resp.read()
        parsed = feedparser.parse(io.BytesIO(body))
        new = [e.get("id", "") for e in parsed.entries if (n, e.get("id", "")) not in self.seen]
        self.seen.update((n, i) for i in new)
        return new

    async def cycle(self, feeds: list[int]) -> tuple[float, list[str]]:
        self.session = self.session or ClientSession()
        gate = asyncio.Semaphore(50)
        start = time.process_time()
        posted = await asyncio.gather(*(self.poll(n, gate) for n in feeds))
        return time.process_time() - start, [g for found in posted for g in found]


async def run(feeds: int, sample: int, per_host: int, seed: int) -> list[tuple[str, ...]]:
    """Prime, change, measure; returns the table rows."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=serve, args=(child, feeds), daemon=True)
    proc.start()
    port = parent.recv()
    rng = random.Random(seed)
    steward = Steward(port, per_host)
    naive = Naive(port)
    sampled = sorted(rng.sample(range(feeds), sample))
    try:
        await steward.cycle(range(feeds))
        await naive.cycle(sampled)
        quiet_cpu, quiet_posted = await steward.cycle(range(feeds))  # every feed answers 304
        order = list(range(feeds))
        rng.shuffle(order)
        grow = order[: feeds * 4 // 100]
        touch = order[feeds * 4 // 100 : feeds * 5 // 100]
        change = {n: (rng.randint(1, 3), 0) for n in grow} | dict.fromkeys(touch, (0, 1))
        expected: set[str] = set()
        for n, (new, _) in change.items():
            expected |= {f"feed{n}-item{k}" for k in range(ITEMS + 1, ITEMS + new + 1)}
        async with ClientSession() as control:
            await control.post(
                f"http://127.0.0.1:{port}/plan", json={str(k): v for k, v in change.items()}
            )
            steward_cpu, steward_posted = await steward.cycle(range(feeds))
            stats = await (await control.get(f"http://127.0.0.1:{port}/stats")).json()
            naive_cpu, naive_posted = await naive.cycle(sampled)
        naive_expected = {g for g in expected if int(g[4 : g.index("-")]) in set(sampled)}
    finally:
        await steward.fetcher.close()
        if naive.session is not None:
            await naive.session.close()
        proc.terminate()
    naive_per_feed = naive_cpu / len(sampled)
    naive_cycle = naive_per_feed * feeds
    got = set(steward_posted)
    return [
        (
            "naive (feedparser defaults, GET all)",
            f"{naive_cycle * 1000:.0f}",
            f"{naive_per_feed * 1000:.2f}",
            "-",
            str(len(set(naive_posted) - naive_expected)),
            str(len(naive_expected - set(naive_posted))),
            "-",
            "1.0x",
        ),
        (
            "Steward (conditional, fastfeedparser)",
            f"{steward_cpu * 1000:.0f}",
            f"{steward_cpu / feeds * 1000:.3f}",
            f"{quiet_cpu / feeds * 1000:.3f}",
            str(len(got - expected) + len(steward_posted) - len(got)),
            str(len(expected - got)),
            f"{stats['max_in_flight']} (limit {per_host})",
            f"{naive_cycle / steward_cpu:.0f}x",
        ),
        (
            "Steward, all 304",
            f"{quiet_cpu * 1000:.0f}",
            f"{quiet_cpu / feeds * 1000:.3f}",
            "-",
            str(len(quiet_posted)),
            "-",
            "-",
            "-",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.feed_cycle")
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--naive-sample", type=int, default=200, help="feeds the naive relay polls")
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    rows = asyncio.run(
        run(args.feeds, min(args.naive_sample, args.feeds), args.per_host, args.seed)
    )
    header = (
        "relay",
        "CPU ms/cycle",
        "CPU ms/feed",
        "ms/unchanged",
        "false-new",
        "missed",
        "max per host",
        "less CPU",
    )
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(
        f"{args.feeds} feeds x {ITEMS} items, 95% 304 / 4% new / 1% same ids new bytes; "
        f"naive measured on {args.naive_sample} and scaled\n"
    )
    for i, line in enumerate(lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
