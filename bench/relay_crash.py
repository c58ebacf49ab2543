"""Steward killed with SIGKILL again and again while it delivers: nothing lost, nothing twice.

``python -m bench.relay_crash [--platform discord|slack] [--kills 50] [--channels 20]
[--posts 150] [--max-alive 1.5] [--speed 1] [--database-url URL]``

The outbox starts with ``channels × posts`` pending posts (as a relay's fan-out leaves them).
A real ``steward run`` process delivers them against a fake in this process; after a random 0
to ``--max-alive`` seconds of delivering it is killed with SIGKILL (no cleanup) and a new one is
started on the same database, ``--kills`` times. A last process finishes the work. Each process
is started ahead as a spare that imports Steward's modules (most of a start: seconds on a busy
machine) while the one before it delivers; the next one then runs ``steward run`` (configuration,
migration check, connecting, the outbox) the moment the last is killed ("restart s": that part,
on average). The posts per channel are enough for 50 kills at the default ``--max-alive``: each
kill comes while posts are still pending ("mid-delivery").
Then what the fake received is compared with the outbox:

* every row is ``sent`` and its recorded message is the one the fake holds for its key;
* duplicates: posts the fake holds more than once (Discord: the ``nonce`` with
  ``enforce_nonce`` answers a resend with the message already posted for a few minutes, and
  a resend first looks among Steward's own messages in the channel since the row was queued,
  as a process killed again and again resends for longer than that; Slack: the channel's
  recent messages are searched for the delivery's key before a resend);
* every channel's posts in the order they were queued;
* the 429s the fake answered, by scope: a new process does not know the buckets the killed one
  had used, so its first posts may meet an exhausted one.

``--speed`` runs the fake's limit windows and Steward's pacing that much faster
(``STEWARD_PLATFORM_SPEED``); it is 1 (the platforms' own limits) by default.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SPARES = 2
"""Processes kept warming (modules imported) for the next restarts."""


@dataclass
class Report:
    """What the kills came to."""

    platform: str
    rows: int
    kills: int = 0
    kills_mid_delivery: int = 0  # killed with rows still pending
    cut_short: int = 0  # rows the fake had taken but the killed process never recorded
    sent: int = 0
    failed: int = 0
    received: int = 0
    duplicates: int = 0
    missing: int = 0
    mismatched: int = 0  # recorded message id is not the fake's message for that key
    order_broken: int = 0
    rate_limited: dict[str, int] = field(default_factory=dict)
    restart: float = 0.0  # mean seconds from a spare's go to "Steward is running"
    seconds: float = 0.0


async def _rows(url: str) -> list[Any]:
    from sqlalchemy import select

    from bot.db.engine import Database
    from bot.db.models import OutboxItem

    db = Database(url)
    try:
        async with db.uow() as uow:
            rows = list(await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
            uow.session.expunge_all()
            return rows
    finally:
        await db.dispose()


async def _seed(url: str, community: Any, channel_ids: list[str], posts: int) -> int:
    """Migrate, then queue ``posts`` per channel, interleaved, without sending."""
    from bot.core.clock import SystemClock
    from bot.core.communities import ensure_community
    from bot.core.ids import ChannelRef
    from bot.core.message import Message
    from bot.core.outbox import Outbox
    from bot.db.engine import Database
    from bot.db.schema import upgrade

    await upgrade(url)
    db = Database(url)
    try:
        async with db.uow() as uow:
            clock = SystemClock()
            await ensure_community(uow.session, community, clock.now())
            outbox = Outbox(uow, community, "announcements", clock, None)
            for k in range(posts):
                for c, channel in enumerate(channel_ids):
                    key = f"{c}:{k}"
                    await outbox.deliver(
                        ChannelRef(community, channel), Message(f"post {key}"), key=key
                    )
            await uow.commit()
    finally:
        await db.dispose()
    return posts * len(channel_ids)


async def _kill_loop(
    args: argparse.Namespace,
    env: dict[str, str],
    url: str,
    report: Report,
    received: Callable[[], set[str]],
) -> None:
    from sandbox.process import Spare

    rng = random.Random(args.seed)
    log = Path(args.tmp) / f"steward-{report.platform}.log"
    started = time.perf_counter()
    # The next processes import their modules while the current one delivers (two ahead: a
    # warm-up takes longer than most lives here): a restart then costs what a real one cannot
    # skip (configuration, migration check, connecting, the outbox).
    spares = deque([await Spare.start(env, log) for _ in range(SPARES)])
    restarts = []
    process = None
    try:
        for _ in range(args.kills):
            begun = time.perf_counter()
            process = await spares.popleft().go()
            restarts.append(time.perf_counter() - begun)
            spares.append(await Spare.start(env, log))
            await asyncio.sleep(rng.uniform(0, args.max_alive))
            process.kill()
            await process.wait()
            report.kills += 1
            rows = await _rows(url)
            pending = [r for r in rows if r.status == "pending"]
            report.kills_mid_delivery += bool(pending)
            taken = received()
            report.cut_short += sum(1 for r in pending if _text(r) in taken)
            if not pending:
                break
        last = await spares.popleft().go()
    except BaseException:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        raise
    finally:
        for spare in spares:
            await spare.discard()
    report.restart = sum(restarts) / len(restarts) if restarts else 0.0
    try:
        deadline = time.perf_counter() + args.finish_within
        while any(r.status == "pending" for r in await _rows(url)):
            if time.perf_counter() > deadline:
                break  # what is still pending shows as missing
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # time for a wrong second post to land
    finally:
        last.terminate()
        await last.wait()
    report.seconds = time.perf_counter() - started


def _text(row: Any) -> str:
    """The text the fake holds for a row: ``post <channel>:<n>``, from its key."""
    return "post " + str(row.idempotency_key).rsplit("|", 1)[1]


def _compare(report: Report, rows: list[Any], held: dict[str, list[tuple[str, str]]]) -> None:
    """Outbox rows against the fake's (message id, text) per channel."""
    by_text: dict[str, list[str]] = {}
    for channel, messages in held.items():
        texts = [text for _id, text in messages if text.startswith("post ")]
        report.received += len(texts)
        seqs = [int(t.split(":")[1]) for t in dict.fromkeys(texts)]
        report.order_broken += seqs != sorted(seqs)
        for message_id, text in messages:
            by_text.setdefault(text, []).append(message_id)
        del channel
    counts = Counter({text: len(ids) for text, ids in by_text.items()})
    report.duplicates = sum(n - 1 for n in counts.values() if n > 1)
    for row in rows:
        report.sent += row.status == "sent"
        report.failed += row.status == "failed"
        text = _text(row)
        found = by_text.get(text, [])
        report.missing += not found
        report.mismatched += bool(found) and row.message_id not in found


async def run_discord(args: argparse.Namespace, url: str) -> Report:
    """The kills against the fake Discord."""
    from bot.core.ids import CommunityRef
    from sandbox.discord import FakeDiscord
    from sandbox.process import steward_env
    from sandbox.scenario._open import _seed_discord

    async with FakeDiscord(validate=not args.no_validate) as fake:
        guild, _people, settings = _seed_discord(fake)
        channels = [fake.add_channel(guild, f"relay-{c:02d}") for c in range(args.channels)]
        community = CommunityRef("discord", guild.id)
        rows = await _seed(url, community, [c.id for c in channels], args.posts)
        report = Report("discord", rows)
        env = steward_env(settings, STEWARD_DATABASE_URL=url, STEWARD_FEATURES="none")

        def received() -> set[str]:
            return {m.content for c in channels for m in fake.messages_in(c)}

        await _kill_loop(args, env, url, report, received)
        held = {c.id: [(m.id, m.content) for m in fake.messages_in(c)] for c in channels}
        _compare(report, await _rows(url), held)
        report.rate_limited = dict(fake.rest.limits.counts)
        if fake.violations:
            print("spec violations:", *fake.violations[:5], sep="\n  ")
    return report


async def run_slack(args: argparse.Namespace, url: str) -> Report:
    """The kills against the fake Slack."""
    from bot.core.ids import CommunityRef
    from sandbox.process import steward_env
    from sandbox.scenario._open import _seed_slack
    from sandbox.slack import FakeSlack

    async with FakeSlack(validate=not args.no_validate, echo_bot_messages=False) as fake:
        _channels, _people, settings = _seed_slack(fake)
        channels = [fake.add_channel(f"relay-{c:02d}") for c in range(args.channels)]
        community = CommunityRef("slack", fake.team.id)
        rows = await _seed(url, community, [c.id for c in channels], args.posts)
        report = Report("slack", rows)
        env = steward_env(settings, STEWARD_DATABASE_URL=url, STEWARD_FEATURES="none")

        def received() -> set[str]:
            return {m.text for c in channels for m in fake.messages_in(c.id)}

        await _kill_loop(args, env, url, report, received)
        held = {c.id: [(m.ts, m.text) for m in fake.messages_in(c.id)] for c in channels}
        _compare(report, await _rows(url), held)
        statuses = Counter(call.status for call in fake.calls_to("chat.postMessage"))
        report.rate_limited = {"ratelimited": statuses.get(429, 0)}
        if fake.violations:
            print("spec violations:", *fake.violations[:5], sep="\n  ")
    return report


def _print(reports: list[Report]) -> None:
    fields = [
        ("platform", "platform"),
        ("rows", "rows"),
        ("kills", "kills"),
        ("mid-delivery", "kills_mid_delivery"),
        ("cut short", "cut_short"),
        ("sent", "sent"),
        ("failed", "failed"),
        ("received", "received"),
        ("duplicates", "duplicates"),
        ("missing", "missing"),
        ("wrong id", "mismatched"),
        ("order broken", "order_broken"),
        ("429s", "rate_limited"),
        ("restart s", "restart"),
        ("seconds", "seconds"),
    ]
    lines = [tuple(name for name, _ in fields)]
    for r in reports:
        cells = []
        for _, attr in fields:
            value = getattr(r, attr)
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in sorted(value.items())) or "0"
            elif isinstance(value, float):
                value = f"{value:.1f}" if attr == "restart" else f"{value:.0f}"
            cells.append(str(value))
        lines.append(tuple(cells))
    widths = [max(len(line[i]) for line in lines) for i in range(len(fields))]
    for i, line in enumerate(lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


async def _main(args: argparse.Namespace) -> int:
    os.environ["STEWARD_PLATFORM_SPEED"] = str(args.speed)  # the fakes and the processes
    reports = []
    with tempfile.TemporaryDirectory(prefix="steward-crash-") as tmp:
        args.tmp = tmp
        for platform in args.platform or ["discord", "slack"]:
            url = args.database_url or f"sqlite+aiosqlite:///{tmp}/{platform}.db"
            run = run_discord if platform == "discord" else run_slack
            reports.append(await run(args, url))
    _print(reports)
    bad = any(r.missing or r.mismatched or r.order_broken or r.failed for r in reports)
    bad |= any(r.duplicates for r in reports if r.platform == "discord")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Run the kills and print the figures; exit 1 if anything was lost or doubled on Discord."""
    parser = argparse.ArgumentParser(prog="python -m bench.relay_crash")
    parser.add_argument("--platform", action="append", choices=["discord", "slack"])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument(
        "--posts", type=int, default=150, help="posts per channel (enough for 50 kills)"
    )
    parser.add_argument("--max-alive", type=float, default=1.5, help="seconds before a kill")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--finish-within", type=float, default=600, help="seconds the last process gets"
    )
    parser.add_argument("--database-url", default=None, help="a fresh database (SQLite default)")
    parser.add_argument("--no-validate", action="store_true", help="skip the spec checks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
