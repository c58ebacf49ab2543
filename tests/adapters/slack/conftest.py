"""A running Steward (the real App and slack-bolt) in a fake Slack workspace, per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.manifest import bot_scopes
from bot.app import App
from bot.builtin import Steward
from bot.config import Config
from bot.core import FakeClock, Feature
from bot.core.registry import Registry
from bot.db.models import InboxEvent
from sandbox.slack import SESSION_LOG, FakeSlack, User
from tests.adapters.desk import Desk
from tests.core.garden import Garden
from tests.sandbox.slack.slack_support import require_validator

_POISON = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
)


@dataclass
class SlackWorld:
    """The fake workspace, the running App, and the people in it."""

    fake: FakeSlack
    app: App
    admin: User
    alice: User
    bob: User

    @property
    def adapter(self) -> SlackAdapter:
        """The App's Slack adapter."""
        adapter: SlackAdapter = self.app.slack
        return adapter

    async def settle(self) -> None:
        """Wait until the fake and Steward are both quiet (Steward acks before it works)."""
        activity = self.app.dispatcher.activity
        for _ in range(200):
            await self.fake.settle()
            for _ in range(5):
                await asyncio.sleep(0)
            if activity.busy:
                await asyncio.wait_for(activity.wait_idle(), 10)
                continue
            generation = activity.generation
            await self.fake.settle()
            for _ in range(5):
                await asyncio.sleep(0)
            if activity.busy == 0 and activity.generation == generation:
                return
        raise AssertionError("Steward never became quiet")

    async def leave_in_inbox(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Store Slack's events in the inbox as a process killed before its listeners ran left
        them (stored, not handled)."""
        async with self.app.db.uow() as uow:
            for envelope in envelopes:
                uow.session.add(
                    InboxEvent(
                        key=f"slack:{envelope['event_id']}",
                        team_id=self.fake.team.id,
                        body=envelope,
                        received_at=datetime.now(UTC),
                        replays=0,
                    )
                )
            await uow.commit()

    async def restart(self, features: Sequence[Feature]) -> App:
        """Start a new App on the same database and workspace (the old one stopped); it is
        ``app`` from now on, connected. The caller stops it."""
        connects = self.fake.socket.connects
        app = App(self.app.config, clock=FakeClock(), features=list(features))
        await app.start(background=False)
        self.app = app
        await self.fake.wait_for(
            lambda: self.fake.socket.connected and self.fake.socket.connects > connects
        )
        return app


StartWorld = Callable[..., Awaitable[SlackWorld]]


@pytest.fixture
async def start_world(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartWorld]:
    """Start one world: a workspace with an admin, alice and bob, and Steward through the App."""
    validator = require_validator()
    for name in _POISON:
        monkeypatch.delenv(name, raising=False)
    fakes: list[FakeSlack] = []
    apps: list[App] = []

    async def start(
        features: Sequence[Feature] | None = None, *, mode: str = "socket", **settings: Any
    ) -> SlackWorld:
        fake = FakeSlack(validate=validator, method_log=SESSION_LOG, ack_deadline=2.0)
        await fake.start()
        fakes.append(fake)
        admin = fake.add_user("ada", is_admin=True)
        alice = fake.add_user("alice")
        bob = fake.add_user("bob")
        platform: dict[str, Any] = {
            "slack_bot_token": fake.bot_token,
            "slack_api_base": fake.api_url,
            "slack_mode": mode,
        }
        if mode == "socket":
            platform["slack_app_token"] = fake.app_token
            fake.use_socket_mode()
        else:
            platform["slack_signing_secret"] = fake.signing_secret
            platform["slack_http_port"] = 0
        platform.update(settings)
        config = Config(_env_file=None, database_url=database_url, **platform)
        loaded = list(features) if features is not None else [Steward(), Garden(), Desk()]
        fake.grant_bot_scopes(bot_scopes(Registry(loaded)))  # installed from Steward's manifest
        app = App(
            config,
            clock=FakeClock(),
            features=loaded,
            slack_options={"http_host": "127.0.0.1"} if mode == "http" else None,
        )
        apps.append(app)
        await app.start(background=False)
        world = SlackWorld(fake, app, admin, alice, bob)
        if mode == "socket":
            await fake.wait_for(lambda: fake.socket.connected)
        else:
            fake.use_http(f"http://127.0.0.1:{world.adapter.http_port}/slack/events")
        await world.settle()
        return world

    try:
        yield start
    finally:
        for app in reversed(apps):
            await app.stop()
        for fake in fakes:
            await fake.stop()
    for fake in fakes:
        assert fake.violations == [], "\n".join(str(v) for v in fake.violations)


@pytest.fixture
async def world(start_world: StartWorld) -> SlackWorld:
    """The default world over Socket Mode: Steward, Garden and Desk."""
    return await start_world()
