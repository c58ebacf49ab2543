"""/healthz and /metrics on Steward's HTTP endpoint, read with a real HTTP client on loopback."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from bot.app import App
from bot.config import Config, ConfigError
from tests.conftest import until

pytestmark = pytest.mark.postgres
README = (Path(__file__).parents[1] / "README.md").read_text()


@asynccontextmanager
async def running(database_url: str, **settings: object) -> AsyncIterator[App]:
    config = Config(_env_file=None, database_url=database_url, http_port=0, **settings)  # type: ignore[call-arg]
    app = App(config, features=[])
    await app.start(background=False)
    try:
        yield app
    finally:
        await app.stop()


async def get(app: App, path: str) -> tuple[int, str]:
    assert app.web is not None
    url = f"http://127.0.0.1:{app.web.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def ready(app: App) -> bool:
    """Whether /healthz answers 200 now."""
    return (await get(app, "/healthz"))[0] == 200


@asynccontextmanager
async def database_away(database_url: str) -> AsyncIterator[None]:
    """The database refuses Steward: SQLite locked by another connection, PostgreSQL closed."""
    if database_url.startswith("sqlite"):
        lock = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    base, _, name = database_url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres".replace("+asyncpg", ""))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_ready_then_degraded_while_the_database_is_away_then_ready(database_url: str) -> None:
    async with running(database_url, metrics=True) as app:
        assert app.health is not None
        app.health.timeout = 1.0
        assert await get(app, "/healthz") == (200, "ready\n")
        status, metrics = await get(app, "/metrics")
        assert status == 200
        assert "steward_up 1.0" in metrics
        assert "steward_database_up 1.0" in metrics
        assert "steward_outbox_pending 0.0" in metrics
        assert "steward_database_errors_total 0.0" in metrics
        section = README.split("### Health and metrics", 1)[1].split("\n#", 1)[0]
        names = set(re.findall(r"`(steward_[a-z_]+)", section))  # the README's metrics table
        assert len(names) == 13
        by_feature = {
            "steward_events_retried_total",
            "steward_events_failed_total",
            "steward_failed_events",
        }
        without_platforms = names - {"steward_platform_connected"} - by_feature  # no samples yet
        assert [n for n in without_platforms if f"\n{n}" not in metrics] == []
        assert [n for n in by_feature if f"# TYPE {n}" not in metrics] == []

        async with database_away(database_url):
            status, text = await get(app, "/healthz")
            assert status == 503
            assert text.startswith("degraded: database unreachable ("), text
            status, metrics = await get(app, "/metrics")
            assert "steward_up 0.0" in metrics
            assert "steward_database_up 0.0" in metrics
            assert "steward_database_errors_total 2.0" in metrics

        # The pool reconnects on the next check.
        await until(lambda: ready(app), "/healthz to answer 200 again", every=0.1)
        assert await get(app, "/healthz") == (200, "ready\n")


async def test_off_unless_configured(database_url: str) -> None:
    async with running(database_url) as app:
        assert app.health is None
        assert app.web is None  # no feature endpoints and no metrics: nothing listens


def test_metrics_need_an_endpoint() -> None:
    with pytest.raises(ConfigError, match="STEWARD_METRICS needs an HTTP endpoint"):
        Config(_env_file=None, metrics=True).check()  # type: ignore[call-arg]


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_a_platform_connection_that_drops_is_named(platform: str, database_url: str) -> None:
    from bot.builtin import Steward
    from sandbox.scenario import open_community

    config = {"http_port": 0, "metrics": True}
    async with open_community(platform, database_url, [Steward()], config=config) as community:
        app = community.app
        assert await get(app, "/healthz") == (200, "ready\n")
        _, metrics = await get(app, "/metrics")
        assert f'steward_platform_connected{{platform="{platform}"}} 1.0' in metrics
        await app.platforms[0].stop()  # the gateway / Socket Mode connection goes away
        assert await get(app, "/healthz") == (503, f"degraded: {platform} disconnected\n")
        _, metrics = await get(app, "/metrics")
        assert f'steward_platform_connected{{platform="{platform}"}} 0.0' in metrics
