"""The community fixture: one story, told on Discord and on Slack, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from bot.core import Feature
from sandbox.scenario import Community, open_community
from tests.adapters.desk import Desk
from tests.conftest import shared_dir
from tests.core.garden import Garden


def default_features() -> list[Feature]:
    """The built-in feature plus the two test features."""
    return [Steward(), Garden(), Desk()]


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """A running Steward in a fresh community on each platform; spec violations fail the test."""
    shared_dir()
    async with open_community(request.param, database_url, default_features()) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)
