"""A burst of joins is greeted together: newcomers whose public welcomes wait for the welcome
channel (its rate limit holds them back) share one post naming them all, each still gets their
own DM, and nobody is named twice, even when Steward stops while the shared post is going out.
A lone newcomer gets the ordinary welcome at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.builtin import Steward
from cogs.onboarding import Onboarding
from sandbox.scenario import (
    Community,
    DiscordCommunity,
    Person,
    Posted,
    start_steward,
    stop_steward,
)
from tests.cogs.onboarding.world import storm
from tests.conftest import until


def _hold_next_welcome(community: Community, hold: Callable[[], Awaitable[None]]) -> None:
    """The platform takes the next post in #welcome and answers it only once ``hold()`` is
    done: the channel is busy meanwhile, as when its rate limit holds Steward back."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        channel = community.guild.channel_named("welcome").id
        fake.rest.faults.stall_after[f"create_message:{channel}"] = hold
    else:
        channel = community.channels["welcome"].id  # type: ignore[attr-defined]
        fake.faults.stall_after("chat.postMessage", hold, channel=channel)


async def _until_dms(community: Community, people: list[Person]) -> None:
    """Wait until every one of ``people`` has their welcome DM (their public welcome was queued
    in the same transaction)."""
    await until(
        lambda: all(community.dms_of(p) for p in people),
        "the newcomers' welcome DMs",
        within=120,
        every=0.05,
    )


def _welcomes(community: Community) -> list[Posted]:
    return [m for m in community.messages_in("welcome") if "Welcome to" in m.text]


def _naming(posts: list[Posted], person: Person) -> list[Posted]:
    return [m for m in posts if f"<@{person.id}>" in m.text]


async def test_a_burst_shares_welcomes_and_a_lone_newcomer_gets_the_usual_one(
    community: Community,
) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    await community.settle()
    [alone] = _welcomes(community)
    assert (
        alone.text
        == f"Welcome to our community, {community.mention(nina)}! We're glad you're here."
    )

    release = asyncio.Event()
    _hold_next_welcome(community, release.wait)
    [first] = await storm_without_settling(community, ["guest0"])  # its welcome is held
    await _until_dms(community, [first])
    burst = await storm_without_settling(community, [f"guest{n}" for n in range(1, 13)])
    await _until_dms(community, burst)
    release.set()
    await community.settle()
    await community.advance(seconds=5)  # a held answer the client gave up on is tried again

    welcomes = _welcomes(community)[1:]
    assert [m.text for m in _naming(welcomes, first)] == [
        f"Welcome to our community, {community.mention(first)}! We're glad you're here."
    ]
    for person in burst:
        assert len(_naming(welcomes, person)) == 1, person.name
        assert len(community.dms_of(person)) == 1
        assert "Welcome to our community" in community.dms_of(person)[0].text
        assert len([m for m in community.pings_of(person) if "Welcome to" in m.text]) == 1
    shared = [m for m in welcomes if m.text.count("<@") > 1]
    assert shared, "the burst's welcomes were not shared"
    together = shared[0].text
    assert together.startswith("Welcome to our community, <@") and ">, <@" in together
    assert together.endswith(">! We're glad you're here.") and "> and <@" in together
    assert len(welcomes) < 1 + len(burst)
    assert not community.pings_of(community.people["ada"])


async def storm_without_settling(community: Community, names: list[str]) -> list[Person]:
    """People join one after another; Steward is not waited for."""
    return await storm(community, names, settle=False)


async def test_a_shared_welcome_cut_off_by_a_stop_goes_out_once(community: Community) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    release, shared = asyncio.Event(), asyncio.Event()
    _hold_next_welcome(community, release.wait)
    [first] = await storm_without_settling(community, ["guest0"])
    await _until_dms(community, [first])
    burst = await storm_without_settling(community, [f"guest{n}" for n in range(1, 6)])
    await _until_dms(community, burst)

    async def hold_shared() -> None:
        shared.set()
        await release.wait()

    _hold_next_welcome(community, hold_shared)
    release.set()  # guest0's welcome is answered; the shared one is taken, then held
    await asyncio.wait_for(shared.wait(), 30)
    release.clear()
    await stop_steward(community)  # Steward never hears where the shared welcome landed
    release.set()

    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)  # the shared welcome's next try is due
        welcomes = _welcomes(community)
        for person in [first, *burst]:
            assert len(_naming(welcomes, person)) == 1, person.name
            assert len(community.dms_of(person)) == 1
        assert len(welcomes) == 2  # guest0's own, then one for the five held behind it
    finally:
        await app.stop()
