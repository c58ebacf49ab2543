"""The composition root: the only place objects are wired together."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from bot.builtin import Steward
from bot.config import Config, safe_url
from bot.core.clock import Clock, SystemClock
from bot.core.dispatch import Dispatcher
from bot.core.feature import Feature
from bot.core.registry import Registry
from bot.core.runtime import ProcessOptions, Runtime
from bot.core.scheduler import JobService, TimerService
from bot.core.settings import SETTINGS_CHANNEL, SettingsCache, use_cache
from bot.db import schema
from bot.db.engine import Database
from bot.db.listen import Listener
from bot.features import load
from bot.health import ConnectionProbe, Health
from bot.web import WebServer, routes

log = logging.getLogger("steward")


class PlatformAdapter(Protocol):
    """A connection to one platform, started after the database and stopped first."""

    async def start(self) -> None:
        """Connect and return once the platform is ready."""
        ...

    async def stop(self) -> None:
        """Disconnect."""
        ...


class App:
    """One Steward process: database, features, dispatcher, timers, jobs (and, later, platforms)."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        features: Sequence[Feature] | None = None,
        discord_options: dict[str, Any] | None = None,
        slack_options: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.db = Database(config.database_url)
        self.settings_cache = SettingsCache()
        use_cache(self.db.engine, self.settings_cache)
        self.settings_listener: Listener | None = None
        """On PostgreSQL: hears other processes' settings writes (:mod:`bot.db.listen`)."""
        if self.db.engine.dialect.name == "postgresql":
            cache = self.settings_cache
            self.settings_listener = Listener(
                self.db.url, SETTINGS_CHANNEL, cache.heard, on_connect=cache.clear
            )
        loaded = list(features) if features is not None else load(config.features)
        self.registry = Registry(loaded)
        for feature in loaded:
            if isinstance(feature, Steward):
                feature.registry = self.registry
        self.dispatcher = Dispatcher(self.registry, self.db, self.clock)
        runtime = Runtime(
            self.db,
            self.clock,
            self.dispatcher.activity,
            self.dispatcher.publish,
            self.dispatcher.steps,
            self.dispatcher.kept,
            ProcessOptions(tuple(config.feeds_allow), config.feeds_min_interval),
        )
        self.runtime = runtime
        for feature in loaded:
            feature.attach(runtime)
        self.timers = TimerService(self.dispatcher, self.db, self.clock)
        self.jobs = JobService(self.dispatcher, self.clock)
        self.platforms: list[PlatformAdapter] = []
        if config.discord_enabled:
            from bot.adapters.discord import DiscordAdapter

            self.discord = DiscordAdapter(
                config, self.dispatcher, self.registry, **(discord_options or {})
            )
            self.platforms.append(self.discord)
        if config.slack_enabled:
            from bot.adapters.slack import SlackAdapter

            self.slack = SlackAdapter(
                config, self.dispatcher, self.registry, **(slack_options or {})
            )
            self.platforms.append(self.slack)
        self.web: WebServer | None = None
        endpoints = routes(self.registry, self.dispatcher)
        self.health: Health | None = None
        if config.metrics:
            self.health = Health(
                self.db,
                self.clock,
                self.dispatcher.activity,
                self._probes(),
                retried=self.dispatcher.retried,
                gave_up=self.dispatcher.gave_up,
            )
            endpoints += self.health.routes()
        if endpoints and config.slack_enabled and config.slack_mode == "http":
            self.slack.extra_routes = endpoints
        elif endpoints and config.http_port is not None:
            self.web = WebServer(endpoints, config.http_host, config.http_port)
        self._stopped = asyncio.Event()

    def _probes(self) -> dict[str, ConnectionProbe]:
        """How ``/healthz`` tells whether each platform connection is up."""
        probes: dict[str, ConnectionProbe] = {}
        if self.config.discord_enabled:

            async def gateway() -> bool | str:
                if self.discord.problem is not None:
                    return self.discord.problem
                client = self.discord.bot
                return bool(client.is_ready() and not client.is_closed())

            probes["discord"] = gateway
        if self.config.slack_enabled and self.config.slack_mode == "socket":

            async def socket_mode() -> bool | str:
                handler = getattr(self.slack, "_socket", None)
                return handler is not None and bool(await handler.client.is_connected())

            probes["slack"] = socket_mode
        return probes

    async def migrate(self) -> None:
        """Bring the database schema up to date."""
        await schema.upgrade(self.db.url)

    async def start(self, *, background: bool = True) -> None:
        """Migrate, load features, and (unless ``background=False``) start timers and jobs."""
        log.info("database %s", safe_url(self.db.url))
        await self.migrate()
        if self.db.dialect == "sqlite":
            # One process uses a SQLite file at a time: an outbox claim left in it is a stopped
            # process's, free once what it sent has landed (on PostgreSQL, once its lease has
            # passed).
            await self.dispatcher.deliverer.free_claims()
        if self.settings_listener is not None:
            self.settings_listener.start()
        for feature in self.registry.features:
            await feature.on_load()
        for platform in self.platforms:
            await platform.start()
        await self._start_web()
        if background:
            self.timers.start()
            self.jobs.start()

    async def _start_web(self) -> None:
        """Start Steward's own HTTP endpoint if configured; tell features where it is reached."""
        local: str | None = None
        if self.web is not None:
            await self.web.start()
            local = f"http://{self.web.host}:{self.web.port}"
        elif self.config.slack_enabled and self.config.slack_mode == "http":
            local = f"http://{self.slack.http_host}:{self.slack.http_port}"
        if local is not None:
            self.runtime.web.base_url = self.config.public_url or local

    @staticmethod
    def freeze_startup_heap() -> None:
        """Put what startup built out of the cyclic garbage collector's sight (``steward run``
        calls it once Steward is up).

        The modules, features, SQLAlchemy's and discord.py's structures live as long as the
        process, yet every full collection walked them all again; under a message flood that
        was about a tenth of Steward's time per event (4 of 33 µs measured by the ingest bench).
        Frozen objects are still freed when nothing refers to them; only cycles among them would
        stay, which is why tests, which build an App per test, don't call this.
        """
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        """Stop everything and close the database."""
        if self.web is not None:
            await self.web.stop()
        if self.health is not None:
            await self.health.close()
        self.runtime.web.base_url = None
        # What was taken in is handled while the platforms can still be answered.
        await self.dispatcher.intake.wait()
        for platform in reversed(self.platforms):
            try:
                await platform.stop()
            except Exception:
                log.exception("a platform failed to stop cleanly")
        await self.dispatcher.intake.close()
        await self.dispatcher.database.close()
        await self.jobs.stop()
        await self.timers.stop()
        await self.dispatcher.deliverer.close()
        await self.dispatcher.kept.flush()  # failures the database refused earlier, if any
        if self.settings_listener is not None:
            await self.settings_listener.stop()
        for feature in self.registry.features:
            try:
                await feature.on_unload()
            except Exception:
                log.exception("feature %s failed to unload", feature.name)
        await self.db.dispose()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Wait until :meth:`stop` has run."""
        await self._stopped.wait()
