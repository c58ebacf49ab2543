"""``steward``: run, migrate, doctor."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from pydantic import ValidationError

from bot.config import Config, ConfigError, safe_url, setup_logging

NO_PLATFORM = """\
Steward is set up (database ready at {db}), but no platform is configured, so there is
nothing to serve yet. Set at least one of these in the environment or in a .env file
(copy config.example.env to .env to start):

  Discord:  STEWARD_DISCORD_TOKEN=<your bot token>
  Slack:    STEWARD_SLACK_BOT_TOKEN=xoxb-...  and  STEWARD_SLACK_APP_TOKEN=xapp-...
            (or STEWARD_SLACK_MODE=http with STEWARD_SLACK_SIGNING_SECRET=...)

Then run the same command again. `steward doctor` checks what you have set.
"""


def _version() -> str:
    try:
        return version("steward")
    except PackageNotFoundError:
        return "unknown"


def _load_config() -> Config:
    try:
        config = Config()
        config.check()
    except ValidationError as exc:
        problems = "; ".join(
            f"STEWARD_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Configuration problem: {problems}") from None
    return config


async def _migrate(config: Config) -> None:
    from bot.db import schema

    await schema.upgrade(config.database_url)


async def _run(config: Config) -> int:
    from bot.app import App

    app = App(config)
    if not (config.discord_enabled or config.slack_enabled):
        await app.migrate()
        await app.db.dispose()
        print(NO_PLATFORM.format(db=safe_url(config.database_url)))
        return 0
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await app.start()
    print("Steward is running. Press Ctrl+C to stop.", flush=True)
    try:
        await stop.wait()
    finally:
        await app.stop()
    return 0


async def _doctor(config: Config) -> int:
    from sqlalchemy import text

    from bot.db import schema
    from bot.db.engine import Database
    from bot.features import load

    ok = True

    def line(good: bool, message: str) -> None:
        nonlocal ok
        ok = ok and good
        print(f"  [{'ok' if good else '!!'}] {message}")

    print("Configuration")
    line(True, f"database: {safe_url(config.database_url)}")
    line(
        config.discord_enabled or config.slack_enabled,
        "platforms: "
        + (
            ", ".join(
                p
                for p, on in (("Discord", config.discord_enabled), ("Slack", config.slack_enabled))
                if on
            )
            or "none configured (set STEWARD_DISCORD_TOKEN or STEWARD_SLACK_BOT_TOKEN)"
        ),
    )
    try:
        features = load(config.features)
        line(True, "features: " + ", ".join(f.name for f in features))
    except ConfigError as exc:
        line(False, str(exc))
    print("Database")
    db = Database(config.database_url)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        line(True, f"reachable ({db.dialect})")
        try:
            await schema.check(config.database_url)
            line(True, "schema is up to date")
        except Exception:
            line(False, "schema is not up to date: run `steward migrate`")
    except Exception as exc:
        line(False, f"cannot connect: {type(exc).__name__}")
    finally:
        await db.dispose()
    print("All good." if ok else "Some checks need attention.")
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="steward", description="A community bot for Discord and Slack."
    )
    parser.add_argument("--version", action="version", version=f"steward {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate the database and serve the configured platforms")
    sub.add_parser("migrate", help="upgrade the database schema and exit")
    sub.add_parser("doctor", help="check configuration, database and platforms")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``steward`` console script."""
    args = build_parser().parse_args(argv)
    try:
        config = _load_config()
        setup_logging(config)
        if args.command == "migrate":
            asyncio.run(_migrate(config))
            print(f"Database is up to date ({safe_url(config.database_url)}).")
            return 0
        if args.command == "doctor":
            return asyncio.run(_doctor(config))
        return asyncio.run(_run(config))
    except ConfigError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
