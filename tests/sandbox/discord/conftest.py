"""Fixtures for the fake Discord: a validated fake per test, a world, and a running real bot."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord.endpoints import configure_endpoints, current_endpoints
from sandbox.discord import (
    FakeDiscord,
    Spec,
    SpecNotFound,
    default_operation_log,
    load_spec,
)
from tests.sandbox.discord.steward_testbot import StewardTestBot, World, default_intents

REPO_ROOT = Path(__file__).resolve().parents[3]
OPERATIONS_REPORT = REPO_ROOT / "artifacts" / "discord-operations.txt"


def require_spec() -> Spec:
    """Return the spec; skip the test if it is absent (fail instead when CI=true)."""
    try:
        return load_spec()
    except SpecNotFound as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{exc} (required when CI=true)")
        pytest.skip(str(exc))


@pytest.fixture(scope="session", autouse=True)
def discord_operations_report() -> Iterator[None]:
    """At the end of the session, write the Discord operations the fakes served.

    Under parallel workers (pytest-xdist) each worker writes its own part beside the report, and
    the root conftest merges the parts into the report when the whole run ends.
    """
    yield
    log = default_operation_log()
    if log.operations:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        log.write(OPERATIONS_REPORT.with_suffix(f".{worker}.part") if worker else OPERATIONS_REPORT)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A fresh fake Discord; the test fails at teardown on any spec violation or unknown route."""
    require_spec()
    async with FakeDiscord() as fake:
        yield fake
    assert fake.violations == [], "\n".join(str(v) for v in fake.violations)


@pytest.fixture
def world(fake_discord: FakeDiscord) -> World:
    """Build the community before the bot connects."""
    fake = fake_discord
    guild = fake.add_guild("Community")
    member_role = fake.add_role(guild, "Member", position=1)
    alice = fake.add_user("alice")
    bob = fake.add_user("bob")
    fake.add_member(guild, alice, roles=[member_role])
    fake.add_member(guild, bob)
    return World(guild, guild.channel_named("general"), alice, bob, member_role)


StartBot = Callable[..., Awaitable[StewardTestBot]]


@pytest.fixture
async def start_bot(fake_discord: FakeDiscord, world: World) -> AsyncIterator[StartBot]:
    """Start the real discord.py bot against the fake (call it with intents= to vary)."""
    saved = current_endpoints()
    configure_endpoints(fake_discord.api_base, fake_discord.gateway_url)
    running: list[tuple[StewardTestBot, asyncio.Task[None]]] = []

    async def start(intents: discord.Intents | None = None, **kw: Any) -> StewardTestBot:
        bot = StewardTestBot(int(world.guild.id), intents or default_intents(), **kw)
        task = asyncio.create_task(bot.start(fake_discord.token), name="test-bot")
        running.append((bot, task))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()  # re-raise why the bot stopped
        assert ready in done, "bot did not become ready"
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        if not task.done():
            await asyncio.wait_for(task, 5)
        elif not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if not isinstance(exc, discord.ConnectionClosed | discord.PrivilegedIntentsRequired):
                raise exc  # type: ignore[misc]
    configure_endpoints(*saved)


@pytest.fixture
async def bot(start_bot: StartBot) -> StewardTestBot:
    """The bot, ready, with Steward's intents."""
    return await start_bot()
