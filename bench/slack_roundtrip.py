"""Slash-command round trip through the fake Slack: Steward versus a bare slack-bolt app.

Each app runs in a process of its own over Socket Mode; the fakes and the driver run here. The
driver runs ``/bench ping`` against one app, then the other, alternating, and times from the
moment the fake starts delivering the slash command to the moment it holds the app's answer
(posted to the response_url after the ack). The fakes run without spec validation so their own
cost does not dilute the ratio. Steward runs the real App: the Slack adapter, the dispatcher, a
unit of work on a SQLite file, settings; the bare app is an ``AsyncApp`` whose handler acks and
responds. Both ack first (``process_before_response=False``), as Steward does.

Run alone with ``python -m bench.slack_roundtrip [--n 200]``, or through ``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import Row, percentile_ms
from bot.core import CommandContext, Feature, command

NAME = "slack_roundtrip"
ROOT = Path(__file__).resolve().parents[1]
BASELINE = "bare slack-bolt"


# -- the two apps (each started in its own process; tokens come in the environment) ----------


class Bench(Feature, name="bench"):
    """A trivial feature: its command answers at once."""

    @command("ping")
    async def ping(self, ctx: CommandContext[Any]) -> None:
        """Answer pong."""
        await ctx.reply("pong")


async def _serve_steward(api_base: str, database_url: str) -> None:
    from bot.app import App
    from bot.builtin import Steward
    from bot.config import Config

    config = Config(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=os.environ["BENCH_SLACK_BOT_TOKEN"],
        slack_app_token=os.environ["BENCH_SLACK_APP_TOKEN"],
        slack_api_base=api_base,
        log_level="WARNING",
    )
    app = App(config, features=[Steward(), Bench()])
    await app.start(background=False)
    try:
        await _until_terminated()
    finally:
        await app.stop()


async def _serve_bare(api_base: str) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=os.environ["BENCH_SLACK_BOT_TOKEN"], base_url=api_base)
    app = AsyncApp(client=client, process_before_response=False)

    @app.command("/bench")
    async def ping(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="pong", response_type="ephemeral")

    handler = AsyncSocketModeHandler(app, app_token=os.environ["BENCH_SLACK_APP_TOKEN"])
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await _until_terminated()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# -- the driver ------------------------------------------------------------------------------


async def _spawn(fake: Any, *args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BENCH_SLACK_BOT_TOKEN": fake.bot_token,
        "BENCH_SLACK_APP_TOKEN": fake.app_token,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.slack_roundtrip", "serve", *args, cwd=ROOT, env=env
    )


async def _one(fake: Any, user: Any) -> float:
    """Time one ``/bench ping`` from delivery to the answer landing in the fake."""
    shown = fake.world.ephemerals
    before = len(shown)
    started = time.perf_counter()
    task = asyncio.create_task(fake.slash(user, "/bench", "ping"))
    await fake.wait_for(lambda: len(shown) > before, within=10)
    elapsed = time.perf_counter() - started
    outcome = await task
    assert shown[-1].text == "pong", (shown[-1].text, outcome.error)
    return elapsed


async def measure(n: int = 200, warmup: int = 30) -> list[Row]:
    """Start both apps against their own fakes, then time ``n`` interleaved round trips each."""
    from sandbox.slack import FakeSlack

    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FakeSlack(validate=False, echo_bot_messages=False) as steward_fake,
            FakeSlack(validate=False, echo_bot_messages=False) as bare_fake,
        ):
            people = {}
            for fake in (steward_fake, bare_fake):
                people[id(fake)] = fake.add_user("alice")
                fake.use_socket_mode()
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'steward.db'}"
            procs = [
                await _spawn(steward_fake, "steward", steward_fake.api_url, database_url),
                await _spawn(bare_fake, "bare", bare_fake.api_url),
            ]
            try:
                for fake in (steward_fake, bare_fake):
                    await fake.wait_for(lambda f=fake: f.socket.connected, within=60)
                    await fake.settle(within=30)
                times: dict[str, list[float]] = {"steward": [], BASELINE: []}
                variants = [("steward", steward_fake), (BASELINE, bare_fake)]
                for i in range(warmup + n):
                    order = variants if i % 2 == 0 else variants[::-1]
                    for name, fake in order:
                        took = await _one(fake, people[id(fake)])
                        if i >= warmup:
                            times[name].append(took)
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.terminate()
                for proc in procs:
                    await proc.wait()
    base50, base99 = percentile_ms(times[BASELINE], 0.5), percentile_ms(times[BASELINE], 0.99)
    rows = []
    for name in (BASELINE, "steward"):
        p50, p99 = percentile_ms(times[name], 0.5), percentile_ms(times[name], 0.99)
        rows.append(Row(NAME, name, len(times[name]), p50, p99, p50 / base50, p99 / base99))
    return rows


def run(n: int = 200) -> list[Row]:
    """The entry ``bench.run`` calls."""
    return asyncio.run(measure(n))


def main(argv: list[str] | None = None) -> int:
    """Serve one app (``serve steward|bare ...``), or run the benchmark and print its table."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        logging.basicConfig(level=logging.WARNING)
        if args[1] == "steward":
            asyncio.run(_serve_steward(*args[2:4]))
        else:
            asyncio.run(_serve_bare(*args[2:3]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.slack_roundtrip")
    parser.add_argument("--n", type=int, default=200)
    from bench.run import print_table

    print_table(run(parser.parse_args(args).n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
