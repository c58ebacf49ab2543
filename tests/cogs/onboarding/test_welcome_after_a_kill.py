"""Steward killed between storing a newcomer and queueing their welcome (issue 20 part 2): the
next start welcomes them, once, by itself."""

from __future__ import annotations

import pytest

from bot.builtin import Steward
from cogs.onboarding import Onboarding
from cogs.onboarding._arrivals import Arrivals
from cogs.onboarding._models import OnboardingMember
from sandbox.scenario import Community, start_steward, stop_steward
from tests.cogs.onboarding.test_welcome_after_trouble import _welcomes


async def test_a_newcomer_stored_but_not_welcomed_before_a_kill_is_welcomed_once_on_restart(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))

    async def killed(self: Arrivals, row: OnboardingMember, *, back: bool, new_buddy: bool) -> bool:
        # The process dies right after the newcomer's row committed: nothing of the welcome
        # runs (no channel invitation, no delivery queued) and welcomed_at stays unset.
        return True

    monkeypatch.setattr(Arrivals, "welcome", killed)
    nina = await community.member_joins("nina")
    await community.settle()
    assert _welcomes(community, nina) == (0, 0)
    await stop_steward(community)
    monkeypatch.undo()

    for _ in range(2):  # the first start welcomes her; the next one adds nothing
        app = await start_steward(community, [Steward(), Onboarding()])
        try:
            await community.settle()
            await community.advance(seconds=5)
            assert _welcomes(community, nina) == (1, 1)
        finally:
            await app.stop()
