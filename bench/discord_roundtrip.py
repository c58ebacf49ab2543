"""Slash-command round trip through the fake Discord: Steward versus a bare discord.py bot.

Each bot runs in a process of its own (discord.py's REST base URL is process-wide, and neither
bot should share a core with the other); the fakes and the driver run here. The driver invokes
``/bench ping`` on one bot, then the other, alternating, and times from the INTERACTION_CREATE
dispatch to the moment the fake holds the bot's answer. The fakes validate against the spec
as in the tests (the fake routes by it); that cost is the same for both bots. Steward runs the
real App: dispatcher, a unit of work on a SQLite file, settings, the lazy-defer responder.

Run alone with ``python -m bench.discord_roundtrip [--n 300]``, or through ``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

NAME = "discord_roundtrip"
ROOT = Path(__file__).resolve().parents[1]


# -- the two bots (each started in its own process) -----------------------------------------


class Bench(Feature, name="bench"):
    """A trivial feature: its command answers at once."""

    @command("ping")
    async def ping(self, ctx: CommandContext[Any]) -> None:
        """Answer pong."""
        await ctx.reply("pong")


async def _serve_steward(api_base: str, gateway_url: str, database_url: str) -> None:
    from bot.app import App
    from bot.builtin import Steward
    from bot.config import Config

    config = Config(
        _env_file=None,
        database_url=database_url,
        discord_token="fake-bot-token",
        discord_api_base=api_base,
        discord_gateway_url=gateway_url,
        log_level="WARNING",
    )
    app = App(config, features=[Steward(), Bench()], discord_options={"guild_ready_timeout": 0.05})
    await app.start(background=False)
    try:
        await _until_terminated()
    finally:
        await app.stop()


async def _serve_bare(api_base: str, gateway_url: str) -> None:
    import discord
    from discord import app_commands

    from bot.adapters.discord.endpoints import configure_endpoints

    configure_endpoints(api_base, gateway_url)

    class Bare(discord.Client):
        def __init__(self) -> None:
            super().__init__(intents=discord.Intents.default())
            self.tree = app_commands.CommandTree(self)
            group = app_commands.Group(name="bench", description="bench")

            @group.command(name="ping", description="Answer pong.")
            async def ping(interaction: discord.Interaction[Any]) -> None:
                await interaction.response.send_message("pong", ephemeral=True)

            self.tree.add_command(group)

        async def setup_hook(self) -> None:
            await self.tree.sync()

    bot = Bare()
    task = asyncio.create_task(bot.start("fake-bot-token"))
    try:
        await _until_terminated()
    finally:
        await bot.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# -- the driver ------------------------------------------------------------------------------


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.discord_roundtrip", "serve", *args, cwd=ROOT, env=env
    )


async def _answered_only(timeout: float = 5.0) -> None:  # noqa: ASYNC109 - matches FakeDiscord.settle
    """Replaces ``settle`` on the bench fakes: its gateway barrier sends a heartbeat request per
    call, and discord.py paces gateway sends (about 110 a minute), which would stall a long run."""


async def _one(fake: Any, user: Any, guild: Any) -> float:
    """Time one ``/bench ping``: from the dispatch until the answer is what alice sees."""
    started = time.perf_counter()
    result = await fake.invoke_slash(user, guild, "bench ping")
    elapsed = time.perf_counter() - started
    assert result.text == "pong", result.text
    return elapsed


async def measure(n: int = 300, warmup: int = 30) -> list[Row]:
    """Start both bots against their own fakes, then time ``n`` interleaved round trips each."""
    from sandbox.discord import FakeDiscord

    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FakeDiscord() as steward_fake,
            FakeDiscord() as bare_fake,
        ):
            people = {}
            for fake in (steward_fake, bare_fake):
                guild = fake.add_guild("Bench")
                user = fake.add_user("alice")
                fake.add_member(guild, user)
                people[id(fake)] = (user, guild)
            procs = [
                await _spawn(
                    "steward",
                    steward_fake.api_base,
                    steward_fake.gateway_url,
                    f"sqlite+aiosqlite:///{Path(tmp) / 'steward.db'}",
                ),
                await _spawn("bare", bare_fake.api_base, bare_fake.gateway_url),
            ]
            try:
                for fake in (steward_fake, bare_fake):
                    await fake.wait_for(
                        lambda f=fake: (
                            (bool(f.app.commands.get(None)) and f.gateway.connected)
                            or any(p.returncode is not None for p in procs)
                        ),
                        timeout=60,
                    )
                    if any(p.returncode is not None for p in procs):
                        codes = [p.returncode for p in procs]
                        raise RuntimeError(f"a bot process exited early: {codes} (output above)")
                    await fake.settle(timeout=30)
                    fake.settle = _answered_only
                times: dict[str, list[float]] = {"steward": [], "bare discord.py": []}
                variants = [
                    ("steward", steward_fake),
                    ("bare discord.py", bare_fake),
                ]
                for i in range(warmup + n):
                    order = variants if i % 2 == 0 else variants[::-1]
                    for name, fake in order:
                        user, guild = people[id(fake)]
                        took = await _one(fake, user, guild)
                        if i >= warmup:
                            times[name].append(took)
            finally:
                for proc in procs:
                    if proc.returncode is None:
                        proc.terminate()
                for proc in procs:
                    await proc.wait()
    base50 = percentile_ms(times["bare discord.py"], 0.5)
    base99 = percentile_ms(times["bare discord.py"], 0.99)
    rows = []
    for name in ("bare discord.py", "steward"):
        p50, p99 = percentile_ms(times[name], 0.5), percentile_ms(times[name], 0.99)
        rows.append(Row(NAME, name, len(times[name]), p50, p99, p50 / base50, p99 / base99))
    return rows


def run(n: int = 300) -> list[Row]:
    """The entry ``bench.run`` calls."""
    return asyncio.run(measure(n))


def main(argv: list[str] | None = None) -> int:
    """Serve one bot (``serve steward|bare ...``), or run the benchmark and print its table."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        logging.basicConfig(level=logging.WARNING)
        if args[1] == "steward":
            asyncio.run(_serve_steward(*args[2:5]))
        else:
            asyncio.run(_serve_bare(*args[2:4]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.discord_roundtrip")
    parser.add_argument("--n", type=int, default=300)
    from bench.run import print_table

    print_table(run(parser.parse_args(args).n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
