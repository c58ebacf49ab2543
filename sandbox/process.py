"""Steward as a real process (``python -m bot run``) against fakes in the calling process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTS_WITHIN = 180.0
"""Seconds a starting process may take to say it runs (a loaded shared machine is slow)."""


async def start_steward(
    env: dict[str, str], log: Path, *args: str, ready: bytes = b"Steward is running"
) -> asyncio.subprocess.Process:
    """Start ``python -m bot run`` with ``env`` over this process's environment and return once
    it says it is running (its stderr goes to ``log``, appended)."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *(args or ("run",)),
            env={**os.environ, **env, "STEWARD_NO_BOOTSTRAP": "1", "PYTHONPATH": str(ROOT)},
            cwd=log.parent,
            stdout=asyncio.subprocess.PIPE,
            stderr=out,
        )
    assert process.stdout is not None
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), STARTS_WITHIN)
        if not line:
            raise RuntimeError(f"Steward exited early; its log is {log}")
        if ready in line:
            return process
