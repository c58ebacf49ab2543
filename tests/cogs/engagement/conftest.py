"""The community fixture for engagement stories: Discord and Slack, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from bot.core import Feature
from cogs.engagement import Engagement
from sandbox.scenario import Community, open_community
from tests.conftest import shared_dir


def features() -> list[Feature]:
    """Steward plus engagement, flushing on the next loop turn so settle() sees rows on disk."""
    return [Steward(), Engagement(flush_after=0)]


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with engagement in a fresh community; spec violations fail the test."""
    shared_dir()
    async with open_community(request.param, database_url, features()) as running:
        first = running.app
        yield running
        if running.app is not first:  # a test restarted Steward: stop the new process too
            await running.app.stop()
            running.app = first
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)
