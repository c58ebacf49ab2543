"""Introductions fed by onboarding's events: interests picked in onboarding group people in
interest mode and show in introductions, and newcomers who finish onboarding are offered a place."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.introductions import Introductions
from cogs.onboarding import Onboarding
from sandbox.scenario import Community, Posted, open_community
from tests.cogs.onboarding.world import option_values
from tests.conftest import shared_dir


@pytest.fixture(params=["discord", "slack"])
async def community(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with onboarding and introductions; spec violations fail the test."""
    shared_dir()
    features = [Steward(), Onboarding(), Introductions()]
    async with open_community(request.param, database_url, features) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


def _intro_of(community: Community, name: str) -> str:
    """The latest introduction the person was shown, readable."""
    intros = [
        m
        for c in community.groups_of(community.people[name])
        for m in c
        if "Meet each other" in m.text
    ]
    return community.readable(intros[-1].text)


def _group(intro: str, community: Community) -> frozenset[str]:
    head = intro.split("!")[0]
    return frozenset(n for n in community.people if f"@{n}" in head)


async def test_interest_mode_groups_people_who_share_an_interest(community: Community) -> None:
    ada = community.people["ada"]
    for name in ("carol", "dan", "erin", "frank"):
        await community.member_joins(name)
    for interest in ("Chess", "Go", "Jazz"):  # offered in this order (by name)
        await community.slash(ada, "onboarding interest add", name=interest)
    picks = {"alice": 0, "bob": 0, "carol": 1, "dan": 1, "olivia": 2, "ada": 2}
    for name, which in picks.items():  # erin and frank pick nothing
        shown = await community.slash(community.people[name], "onboarding interests")
        await community.select(community.people[name], shown, "pick", [option_values(shown)[which]])
    settings = {"mode": "interest", "history_rounds": "0"}
    if community.platform == "discord":
        settings["thread_channel"] = community.channel_mention("general")
    await community.configure("introductions", **settings)
    added = await community.slash(
        ada, "introductions starter add", text="Which opening do you play?", interest="chess"
    )
    assert added.text == "Starter added (for groups who share chess): Which opening do you play?"
    await community.slash(ada, "introductions starter add", text="What did you learn this week?")
    for name in [*picks, "erin", "frank"]:
        await community.slash(community.people[name], "introductions join")
    me = await community.slash(community.people["carol"], "introductions me")
    assert "Your interests (from onboarding): Go." in me.text

    await community.slash(ada, "introductions round now")
    await community.advance(seconds=1)
    groups = {_group(_intro_of(community, n), community) for n in [*picks, "erin", "frank"]}
    # Those who share an interest meet; the two who picked none meet as in a random round.
    assert groups == {
        frozenset({"alice", "bob"}),
        frozenset({"carol", "dan"}),
        frozenset({"olivia", "ada"}),
        frozenset({"erin", "frank"}),
    }
    chess = _intro_of(community, "alice")
    assert "• @alice is into Chess." in chess and "• @bob is into Chess." in chess
    assert "You both like Chess." in chess
    assert "To get you started: Which opening do you play?" in chess
    go = _intro_of(community, "carol")
    assert "You both like Go." in go and "To get you started: What did you learn this week?" in go
    neither = _intro_of(community, "erin")
    assert "is into" not in neither and "like" not in neither.split("To get you started")[0]

    # Interests changed in onboarding reach introductions too.
    shown = await community.slash(community.people["alice"], "onboarding interests")
    values = option_values(shown)
    await community.select(community.people["alice"], shown, "pick", [values[1], values[2]])
    me = await community.slash(community.people["alice"], "introductions me")
    assert "Your interests (from onboarding): Go, Jazz." in me.text


def _offers(community: Community, name: str) -> list[Posted]:
    return [m for m in community.dms_of(community.people[name]) if "take part?" in m.text]


async def test_newcomers_who_finish_onboarding_are_offered_a_place(community: Community) -> None:
    ada, bob = community.people["ada"], community.people["bob"]
    await community.slash(ada, "onboarding rules set", text="Be kind.")

    async def onboards(name: str) -> None:
        newcomer = await community.member_joins(name)
        welcome = next(m for m in community.dms_of(newcomer) if community.offers(m, "agree"))
        await community.click(newcomer, welcome, "agree")

    await onboards("omar")  # offers are off by default
    assert not _offers(community, "omar")
    await community.configure("introductions", offer_newcomers="true")
    await onboards("nina")
    (offer,) = _offers(community, "nina")
    assert "Would you like to take part?" in offer.text and community.offers(offer, "join_offer")
    nina = community.people["nina"]
    joined = await community.click(nina, offer, "join_offer")
    assert joined.ephemeral and "You're in!" in joined.text
    again = await community.click(nina, offer, "join_offer")
    assert "You're already in the introductions pool." in again.text
    me = await community.slash(nina, "introductions me")
    assert "You're in the pool for the next round" in me.text
    # A member from before Steward who agrees to the rules now is not a newcomer: no offer.
    started = await community.slash(bob, "onboarding start")
    await community.click(bob, started, "agree")
    assert not _offers(community, "bob")
