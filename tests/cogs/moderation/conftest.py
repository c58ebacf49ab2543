"""The community fixture for moderation stories: Discord and Slack, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.moderation import Moderation
from sandbox.scenario import Community, Person, open_community
from tests.cogs.moderation.world import make_moderator
from tests.conftest import shared_dir


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with moderation in a fresh community; spec violations fail the test."""
    shared_dir()
    async with open_community(request.param, database_url, [Steward(), Moderation()]) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


@pytest.fixture
async def alice(community: Community) -> Person:
    """Alice moderates the community (and Ada, an admin, holds the moderator role too)."""
    person = community.people["alice"]
    await make_moderator(community, person, community.people["ada"])
    return person
