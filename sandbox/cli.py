"""``steward sandbox``: the subcommand the sandbox adds to ``steward`` (an entry point in the
``steward.commands`` group, declared in pyproject.toml), so ``bot`` never imports ``sandbox``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError

DEFAULT_FILE = "steward-sandbox.db"


def register(sub: Any) -> None:
    """Add ``steward sandbox`` to the command line (``sub`` is argparse's subparsers)."""
    box = sub.add_parser(
        "sandbox", help="run Steward against a local fake Discord and Slack, to try or rehearse"
    )
    box.add_argument("--script", help="play this script and print what each person saw")
    box.add_argument(
        "--database",
        default=DEFAULT_FILE,
        help=f"the file the sandbox keeps its data in (default: {DEFAULT_FILE}, never your "
        "real database), or a database URL",
    )
    box.add_argument(
        "--keep",
        action="store_true",
        help="go on from the last sandbox: its data, people, roles and time (by default each "
        "sandbox starts fresh)",
    )
    box.set_defaults(handler=main)


def main(args: argparse.Namespace, config: Config) -> int:
    """Run the sandbox for ``steward sandbox`` (and ``steward run`` with no platform)."""
    from bot.features import load
    from sandbox.demo import run
    from sandbox.keep import world_file

    lines = _script(getattr(args, "script", None))
    where, keep = getattr(args, "database", DEFAULT_FILE), getattr(args, "keep", False)
    url = database_url(where, keep=keep)
    world = None if "://" in where else world_file(Path(where).expanduser())
    if world is not None and not keep:
        world.unlink(missing_ok=True)
    # The console is the sandbox's screen: keep the logs to warnings and errors.
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
    # "Can't keep up, websocket is 40s behind" only says this machine is busy: the fake server
    # and Steward share it. Nothing a rehearsing manager can act on.
    logging.getLogger("discord.gateway").setLevel(logging.ERROR)
    interrupted: list[int] = []
    try:
        code = asyncio.run(
            _noting_ctrl_c(run(url, load(config.features), lines, world=world), interrupted)
        )
    except KeyboardInterrupt:
        interrupted.append(signal.SIGINT)
        code = 0
    if interrupted:
        print()  # Ctrl+C: leave the prompt's line, then go quietly
        return 130
    return code


async def _noting_ctrl_c(main: Coroutine[Any, Any, int], interrupted: list[int]) -> int:
    """Run ``main``, noting a Ctrl+C in ``interrupted``: asyncio cancels the main task on
    Ctrl+C, and when that cancel lands while Steward is already shutting down (the end of
    the input read at the same moment) the run can end normally; Ctrl+C still ends with 130."""
    handler = signal.getsignal(signal.SIGINT)  # asyncio's own, which cancels this task

    def note(signum: int, frame: Any) -> None:
        interrupted.append(signum)
        if callable(handler):
            handler(signum, frame)

    signal.signal(signal.SIGINT, note)
    return await main


def database_url(where: str, *, keep: bool) -> str:
    """A URL for a plain path (the file is emptied first unless ``keep``), or the URL given."""
    if "://" in where:
        return where
    path = Path(where).expanduser()
    if path.is_dir():
        raise ConfigError(
            f"--database {where} is a folder; name a file, like {path / DEFAULT_FILE}"
        )
    if not path.parent.is_dir():
        raise ConfigError(f"--database {where}: the folder {path.parent} does not exist")
    if not keep:
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path.resolve()}"


def _script(path: str | None) -> list[str] | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the script {path}: {exc.strerror}") from None
