"""Onboarding publishes the steps newcomers complete; engagement listens and points at intros."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.engagement import Engagement
from cogs.onboarding import Onboarding
from sandbox.scenario import Community, open_community
from tests.conftest import shared_dir


@pytest.fixture(params=["discord", "slack"])
async def both(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with onboarding and engagement; spec violations fail the test."""
    shared_dir()
    features = [Steward(), Onboarding(), Engagement()]
    async with open_community(request.param, database_url, features) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_a_newcomers_intro_is_pointed_out_once_where_members_talk(both: Community) -> None:
    await both.configure("onboarding", intro_channel=both.channel_mention("intros"))
    nina = await both.member_joins("nina")
    await both.says(nina, "Hi, I'm Nina and I like kites.", "intros")
    assert not [m for m in both.messages_in("general") if "introduced" in m.text]  # not asked
    await both.configure(
        "engagement", digest_channel=both.channel_mention("general"), greet_intros="on"
    )
    omar = await both.member_joins("omar")
    await both.says(omar, "Hello! Omar here.", "intros")
    await both.says(omar, "Also: I bake.", "intros")  # not a first intro: nothing more
    pointed = [both.readable(m.text) for m in both.messages_in("general") if "introduced" in m.text]
    assert pointed == ["@omar just introduced themselves. Say hello!"]
    assert not [m for m in both.pings_of(omar) if "introduced" in m.text]  # named, not pinged
