"""Steward killed between storing a newcomer and queueing their welcome (issue 20 part 2): the
next start welcomes them, once, by itself."""

from __future__ import annotations

from typing import Any

import pytest

from bot.builtin import Steward
from bot.core import Level, Message
from cogs.onboarding import Onboarding
from cogs.onboarding._arrivals import Arrivals, Greeting
from cogs.onboarding._models import OnboardingMember
from sandbox.scenario import Community, Person, start_steward, stop_steward
from tests.cogs.onboarding.test_welcome_after_trouble import _welcomes


async def test_a_newcomer_stored_but_not_welcomed_before_a_kill_is_welcomed_once_on_restart(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))

    async def unsent(self: Arrivals, row: OnboardingMember, *, back: bool, count: Any) -> Greeting:
        # The newcomer's row commits with no welcome queued and welcomed_at unset: what a
        # Steward that stored a newcomer and queued their welcome in two transactions left
        # when killed between them (this version writes both at once, so an upgrade meets it).
        return Greeting(Message(text=""), posted=False, dm_key=None)

    async def killed(self: Arrivals, row: OnboardingMember, sent: Greeting) -> None:
        return None  # and the process is gone before anything runs after that commit

    monkeypatch.setattr(Arrivals, "greet", unsent)
    monkeypatch.setattr(Arrivals, "welcomed", killed)
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


@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_members_who_joined_while_steward_was_down_are_welcomed_once_on_start(
    community: Community,
) -> None:
    """Discord does not send again the joins made while no Steward ran (a new process starts
    a new gateway session): on ready, the members who joined since Steward was last ready and
    were never stored are welcomed, once; members it knows, and the guild's older members,
    are not."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")  # while Steward runs: welcomed then
    assert _welcomes(community, nina) == (1, 1)
    await stop_steward(community)

    fake: Any = community.fake  # type: ignore[attr-defined]
    guild = community.guild  # type: ignore[attr-defined]
    user = fake.add_user("omar")
    await fake.member_joins(guild, user)  # nobody is connected: the join reaches no Steward
    omar = Person("omar", Level.MEMBER, user.id, user)
    community.people["omar"] = omar

    old = [p for name, p in community.people.items() if name not in ("nina", "omar")]
    for _ in range(2):  # the first start welcomes him; the next one adds nothing
        app = await start_steward(community, [Steward(), Onboarding()])
        try:
            await community.settle()
            await community.advance(seconds=5)
            assert _welcomes(community, omar) == (1, 1)
            assert _welcomes(community, nina) == (1, 1)
            assert [p.name for p in old if _welcomes(community, p) != (0, 0)] == []
        finally:
            await app.stop()


@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_a_member_forgotten_soon_after_joining_is_not_welcomed_again_on_start(
    community: Community,
) -> None:
    """A newcomer asks Steward to forget them on their first day; Steward restarts that day.
    They are still in the guild and Steward has no record of them (it deleted it, as asked):
    the restart's catch-up must not take them for a join it missed."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    assert _welcomes(community, nina) == (1, 1)
    done = await community.slash(nina, "steward forget me")
    assert done.text.startswith("Done: every feature deletes"), done.text
    await stop_steward(community)
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, nina) == (1, 1)
        gone = await community.slash(nina, "onboarding me")
        assert "You haven't been through onboarding here." in gone.text
    finally:
        await app.stop()
