"""Steward as a real process (``python -m bot run``) against fakes in the calling process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STARTS_WITHIN = 180.0
"""Seconds a starting process may take to say it runs (a loaded shared machine is slow)."""
READY = b"Steward is running"
SPARE = """
import gc, sys
import alembic.command, alembic.runtime.environment, alembic.script
import bot.adapters.discord, bot.adapters.slack, bot.app, bot.cli, bot.db.schema
bot.db.schema.load_all_models()
gc.collect()
gc.freeze()
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
sys.exit(bot.cli.main(["run"]))
"""
"""A spare's program: the modules a start imports (Steward's, the platforms' libraries, Alembic
and every model), loaded before it is needed; then, on ``go``, the same ``steward run`` as
``python -m bot run`` (configuration, migration check, platforms, the outbox)."""


def steward_env(settings: Mapping[str, Any], **more: str) -> dict[str, str]:
    """The environment that points ``python -m bot run`` at a seeded fake: each of the seed's
    settings (``discord_token``, ``slack_api_base``...) as its ``STEWARD_`` variable, then
    ``more`` (``STEWARD_DATABASE_URL=...``) as given."""
    return {**{f"STEWARD_{k.upper()}": str(v) for k, v in settings.items()}, **more}


async def _spawn(env: dict[str, str], log: Path, *argv: str) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *argv,
            env={**os.environ, **env, "STEWARD_NO_BOOTSTRAP": "1", "PYTHONPATH": str(ROOT)},
            cwd=log.parent,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=out,
        )


async def _running(
    process: asyncio.subprocess.Process, log: Path, ready: bytes = READY
) -> asyncio.subprocess.Process:
    """Return ``process`` once it says it is running."""
    assert process.stdout is not None
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), STARTS_WITHIN)
        if not line:
            raise RuntimeError(f"Steward exited early; its log is {log}")
        if ready in line:
            return process


async def start_steward(
    env: dict[str, str], log: Path, *args: str, ready: bytes = READY
) -> asyncio.subprocess.Process:
    """Start ``python -m bot run`` with ``env`` over this process's environment and return once
    it says it is running (its stderr goes to ``log``, appended)."""
    process = await _spawn(env, log, "-m", "bot", *(args or ("run",)))
    return await _running(process, log, ready)


class Spare:
    """A Steward process started ahead of need: it imports its modules (most of a start) and
    waits; :meth:`go` runs ``steward run`` in it. A benchmark that kills Steward again and again
    warms the next process while the current one works, so a restart costs only what a real
    one cannot skip: reading the configuration, the migration check, connecting, the outbox."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, env: dict[str, str], log: Path) -> Spare:
        """Start a spare with ``env`` over this process's environment (stderr to ``log``)."""
        return cls(await _spawn(env, log, "-c", SPARE), log)

    async def go(self) -> asyncio.subprocess.Process:
        """Run Steward in the spare; return the process once it says it is running."""
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        return await _running(self.process, self.log)

    async def discard(self) -> None:
        """End a spare that was never used."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
