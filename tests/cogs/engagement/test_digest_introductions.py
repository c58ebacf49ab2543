"""The weekly digest's introductions line, told by introductions through its events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.engagement import Engagement
from cogs.introductions import Introductions
from sandbox.scenario import Community, open_community
from tests.cogs.engagement.test_health_report import field
from tests.conftest import shared_dir


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with engagement and introductions; spec violations fail the test."""
    shared_dir()
    features = [Steward(), Engagement(flush_after=0), Introductions()]
    async with open_community(request.param, database_url, features) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


def _digests(community: Community) -> list[str]:
    return [
        community.readable(p.text)
        for p in community.messages_in("mods")
        if "Weekly engagement" in p.text
    ]


async def test_the_digest_says_how_last_weeks_round_went(community: Community) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    # The clock starts on Monday 2026-01-05 at 09:00 UTC; rounds start on Mondays at 10:00.
    await community.configure(
        "engagement",
        digest_channel=community.channel_mention("mods"),
        digest_weekday="0",
        digest_hour="9",
    )
    if community.platform == "discord":
        await community.configure(
            "introductions", thread_channel=community.channel_mention("general")
        )
    for name in ("olivia", "ada", "alice", "bob"):
        await community.slash(community.people[name], "introductions join")
    await community.slash(ada, "introductions start")
    await community.advance(hours=1)  # round 1
    await community.advance(days=3, hours=12)  # the midway check-in: alice's group met
    conversation = next(c for c in community.groups_of(alice) if c)
    check_in = next(m for m in conversation if "Have you met yet?" in m.text)
    await community.click(alice, check_in, "met")
    await community.advance(days=3, hours=11)  # Monday 2026-01-12 09:00: round 1 still runs
    (first,) = _digests(community)
    assert "Introductions:" not in first
    await community.advance(hours=2)  # round 2 starts, closing round 1
    await community.advance(days=6, hours=22)  # Monday 2026-01-19 09:00
    second = _digests(community)[-1]
    assert field(second, "Introductions") == "4 people in 2 groups, 50% said they met"
