"""``steward``: run, migrate, doctor, discord-invite, slack-manifest, and the subcommands that
installed packages add (``steward sandbox``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.config import Config, ConfigError, safe_url, setup_logging

if TYPE_CHECKING:
    from bot.app import App

NO_PLATFORM = """\
Steward is set up (database ready at {db}), but no platform is configured, so there is
nothing to serve yet. Set at least one of these in the environment or in a .env file
(copy config.example.env to .env to start):

  Discord:  STEWARD_DISCORD_TOKEN=<your bot token>
  Slack:    STEWARD_SLACK_BOT_TOKEN=xoxb-...  and  STEWARD_SLACK_APP_TOKEN=xapp-...
            (or STEWARD_SLACK_MODE=http with STEWARD_SLACK_SIGNING_SECRET=...)

Then run the same command again. `steward doctor` checks what you have set.
Meanwhile, here is Steward in a local sandbox (`steward sandbox` starts it directly).
"""
COMMANDS_GROUP = "steward.commands"
"""Entry points that add subcommands (the sandbox adds ``steward sandbox``): each names a
``register(subparsers)`` that adds its parser with ``set_defaults(handler=fn)``, where
``fn(args, config) -> int``."""
NO_SANDBOX = "The sandbox is not installed here (it comes with a clone of the repository)."


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
            f"STEWARD_{'_'.join(str(p) for p in err['loc']).upper()}: "
            + str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigError(f"Configuration problem: {problems}") from None
    return config


async def _migrate(config: Config) -> None:
    from bot.db import schema
    from bot.db.problems import CONNECT_ERRORS, DatabaseProblem, connect_problem, url_problem

    problem = url_problem(config.database_url)
    if problem is not None:
        raise DatabaseProblem(problem)
    try:
        await schema.upgrade(config.database_url)
    except CONNECT_ERRORS as exc:
        raise DatabaseProblem(connect_problem(exc, config.database_url)) from None


async def _run(config: Config) -> int:
    from bot.app import App

    if config.discord_enabled:
        from bot.adapters.discord.doctor import token_problem

        assert config.discord_token is not None
        problem = token_problem(config.discord_token.get_secret_value())
        if problem is not None:
            raise ConfigError(problem)
    from bot.db.solo import one_process

    await _migrate(config)
    with one_process(config.database_url):
        return await _serve(App(config))


async def _serve(app: App) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    from bot.heap import cap_arenas, install, trim_forever

    cap_arenas()  # before the database's threads start
    install(loop)  # STEWARD_TRACEMALLOC: heap dumps on SIGUSR1
    try:
        await app.start()
    except BaseException:
        await app.stop()  # close what did start (sessions, the writer process) before saying why
        raise
    app.freeze_startup_heap()
    trimming = asyncio.create_task(trim_forever(), name="malloc-trim")
    print("Steward is running. Press Ctrl+C to stop.", flush=True)
    try:
        await stop.wait()
    finally:
        trimming.cancel()
        await app.stop()
    return 0


async def _doctor(config: Config) -> int:
    from bot.features import load

    # The report is the output: libraries' progress lines (slack_sdk's retries) stay out of it.
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
    ok = True

    def line(good: bool, message: str) -> None:
        nonlocal ok
        ok = ok and good
        print(f"  [{'ok' if good else '!!'}] {message}")

    print("Configuration")
    for good, message in _configuration_checks(config):
        line(good, message)
    try:
        features = load(config.features)
        line(True, "features: " + ", ".join(f.name for f in features))
    except ConfigError as exc:
        line(False, str(exc))
    print("Database")
    for good, message in await _database_checks(config):
        line(good, message)
    if config.discord_enabled:
        print("Discord")
        for check in await _discord_checks(config):
            line(check.ok, check.text)
    if config.slack_enabled:
        from bot.adapters.slack.doctor import check_slack
        from bot.core.registry import Registry
        from bot.features import load

        print("Slack")
        try:
            slack_checks = await check_slack(config, Registry(load(config.features)))
        except ConfigError as exc:
            slack_checks = [(False, f"cannot check Slack: {exc}")]
        for good, text_ in slack_checks:
            line(good, text_)
    print("All good." if ok else "Some checks need attention.")
    return 0 if ok else 1


def _missing_sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if Path(database).exists() or database.startswith("file:") else database


def _configuration_checks(config: Config) -> list[tuple[bool, str]]:
    from bot.db.problems import url_problem

    problem = url_problem(config.database_url)
    database = (problem is None, f"database: {safe_url(config.database_url)}")
    platforms = [
        name
        for name, on in (("Discord", config.discord_enabled), ("Slack", config.slack_enabled))
        if on
    ]
    return [
        database if problem is None else (False, f"database: {problem}"),
        (
            bool(platforms),
            "platforms: "
            + (
                ", ".join(platforms)
                or "none configured (set STEWARD_DISCORD_TOKEN or STEWARD_SLACK_BOT_TOKEN)"
            ),
        ),
    ]


async def _database_checks(config: Config) -> list[tuple[bool, str]]:
    from sqlalchemy import text

    from bot.db import schema
    from bot.db.engine import Database
    from bot.db.problems import CONNECT_ERRORS, connect_problem, url_problem

    if url_problem(config.database_url) is not None:
        return [(False, "not checked: fix STEWARD_DATABASE_URL first (see above)")]
    missing = _missing_sqlite_file(config.database_url)
    if missing is not None:  # connecting would create it; the doctor only looks
        return [(False, f"{missing} does not exist yet: `steward migrate` creates it")]
    db = Database(config.database_url)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except CONNECT_ERRORS as exc:
        return [(False, connect_problem(exc, config.database_url))]
    finally:
        await db.dispose()
    try:
        await schema.check(config.database_url)
    except Exception:
        return [
            (True, f"reachable ({db.dialect})"),
            (False, "schema is not up to date: run `steward migrate`"),
        ]
    return [
        (True, f"reachable ({db.dialect})"),
        (True, "schema is up to date"),
        await _kept_failures(config),
    ]


async def _kept_failures(config: Config) -> tuple[bool, str]:
    """Events a listener still failed on after its retries, counted per feature and kind."""
    from bot.core.failures import counts
    from bot.core.message import plural
    from bot.db.engine import Database

    db = Database(config.database_url)
    try:
        async with db.uow() as uow:
            found = await counts(uow.session)
    finally:
        await db.dispose()
    if not found:
        return True, "no events kept as failed"
    total = sum(n for _, _, n in found)
    each = ", ".join(f"{feature} {kind} {n}" for feature, kind, n in found)
    return False, (
        f"{plural(total, 'event')} kept as failed ({each}): a community's admins list them with "
        "`/steward failures show` and try them again with `/steward failures retry`"
    )


async def _discord_checks(config: Config) -> list[Any]:
    from bot.adapters.discord.doctor import Check, run_checks
    from bot.core.registry import Registry
    from bot.features import load

    try:
        registry = Registry(load(config.features))
    except ConfigError as exc:
        return [Check(False, f"cannot check Discord: {exc}")]
    return list(await run_checks(config, registry))


def _discord_invite(config: Config, client_id: int | None) -> int:
    from bot.adapters.discord.doctor import (
        client_id_from_token,
        invite_url,
        needed_permissions,
        permission_names,
    )
    from bot.core.registry import Registry
    from bot.features import load

    if client_id is None:
        if not config.discord_enabled:
            raise ConfigError(
                "discord-invite needs STEWARD_DISCORD_TOKEN (the bot's id is read from it), "
                "or --client-id (the Application ID from the Developer Portal)."
            )
        assert config.discord_token is not None
        client_id = client_id_from_token(config.discord_token.get_secret_value())
    perms = needed_permissions(Registry(load(config.features)))
    print(invite_url(client_id, perms))
    print("Permissions asked for: " + ", ".join(permission_names(perms)), file=sys.stderr)
    return 0


def _slack_manifest(config: Config, request_url: str) -> int:
    from bot.adapters.slack.manifest import manifest
    from bot.core.registry import Registry
    from bot.features import load

    print(
        json.dumps(
            manifest(Registry(load(config.features)), config, request_url=request_url), indent=2
        )
    )
    return 0


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
    invite = sub.add_parser(
        "discord-invite", help="print the URL that adds the bot with the permissions it needs"
    )
    invite.add_argument("--client-id", type=int, help="the Application ID (default: from token)")
    slack = sub.add_parser(
        "slack-manifest", help="print the Slack app manifest for the features this process runs"
    )
    slack.add_argument(
        "--request-url", default="", help="HTTP mode: the public URL of /slack/events"
    )
    for entry in entry_points(group=COMMANDS_GROUP):
        entry.load()(sub)
    return parser


def _no_platform(parser: argparse.ArgumentParser, config: Config) -> int:
    """``steward run`` with nothing to serve: set up, say what to set, open the sandbox."""
    asyncio.run(_migrate(config))
    print(NO_PLATFORM.format(db=safe_url(config.database_url)), flush=True)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "sandbox" not in commands.choices:
        print(NO_SANDBOX)
        return 0
    args = parser.parse_args(["sandbox"])
    code: int = args.handler(args, config)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``steward`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = _load_config()
        setup_logging(config)
        if args.command == "migrate":
            asyncio.run(_migrate(config))
            print(f"Database is up to date ({safe_url(config.database_url)}).")
            return 0
        if args.command == "doctor":
            return asyncio.run(_doctor(config))
        if args.command == "discord-invite":
            return _discord_invite(config, args.client_id)
        if args.command == "slack-manifest":
            return _slack_manifest(config, args.request_url)
        handler = getattr(args, "handler", None)
        if handler is not None:
            code: int = handler(args, config)
            return code
        if not (config.discord_enabled or config.slack_enabled):
            return _no_platform(parser, config)
        return asyncio.run(_run(config))
    except ConfigError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
