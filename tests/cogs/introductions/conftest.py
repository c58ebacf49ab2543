"""The community fixture for introductions stories: Discord and Slack, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.introductions import Introductions
from sandbox.scenario import Community, open_community
from tests.conftest import shared_dir


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with introductions in a fresh community; spec violations fail the test."""
    shared_dir()
    async with open_community(request.param, database_url, [Steward(), Introductions()]) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)
