"""A running Steward (the real App and discord.py) in a fake Discord world, per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.adapters.discord.endpoints import reset_endpoints
from bot.app import App
from bot.builtin import Steward
from bot.config import Config
from bot.core import Feature
from sandbox.discord import FakeDiscord, SpecNotFound, load_spec
from tests.adapters.desk import Desk
from tests.adapters.discord.world import World
from tests.core.garden import Garden

ADMIN_PERMS = 1 << 5  # MANAGE_GUILD


StartWorld = Callable[..., Awaitable[World]]


def require_spec() -> None:
    """Skip without the Discord spec (fail instead when CI=true)."""
    try:
        load_spec()
    except SpecNotFound as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
async def start_world(database_url: str) -> AsyncIterator[StartWorld]:
    """Start one world: a guild with an admin and alice, and Steward connected through the App.

    discord.py's endpoints are reset to Discord's production URLs first, so every test also
    proves that the App's ``discord_api_base``/``discord_gateway_url`` settings are what point
    discord.py at the fake.
    """
    require_spec()
    fakes: list[FakeDiscord] = []
    apps: list[App] = []

    async def start(features: Sequence[Feature] | None = None, **discord_options: Any) -> World:
        fake = await FakeDiscord().start()
        fakes.append(fake)
        guild = fake.add_guild("Garden Club")
        admins = fake.add_role(guild, "Admins", ADMIN_PERMS, position=1)
        gardeners = fake.add_role(guild, "Gardeners", position=1, mentionable=True)
        admin = fake.add_user("ada")
        alice = fake.add_user("alice")
        fake.add_member(guild, admin, roles=[admins])
        fake.add_member(guild, alice, roles=[gardeners])
        reset_endpoints()
        config = Config(
            _env_file=None,
            database_url=database_url,
            discord_token=fake.token,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
        )
        options: dict[str, Any] = {"guild_ready_timeout": 0.05, **discord_options}
        app = App(
            config,
            features=list(features) if features is not None else [Steward(), Garden(), Desk()],
            discord_options=options,
        )
        apps.append(app)
        await app.start(background=False)
        return World(fake, app, guild, admin, alice, gardeners)

    try:
        yield start
    finally:
        for app in reversed(apps):
            await app.stop()
        for fake in fakes:
            await fake.close()
        reset_endpoints()
    for fake in fakes:
        assert fake.violations == [], "\n".join(str(v) for v in fake.violations)


@pytest.fixture
async def world(start_world: StartWorld) -> World:
    """The default world: Steward, Garden and Desk."""
    return await start_world()
