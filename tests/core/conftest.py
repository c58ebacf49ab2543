"""The courier's community on each platform and database, for the outbox and storm tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from sandbox.scenario import Community, open_community
from tests.conftest import shared_dir
from tests.core.courier import Courier


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with the courier, on each platform and database; spec violations fail the test."""
    shared_dir()
    async with open_community(request.param, database_url, [Steward(), Courier()]) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)
