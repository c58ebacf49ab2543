"""Steward's port brings members into channels in batches, within conversations.invite's tier.

Onboarding invites every newcomer into its channels; on Slack that is conversations.invite, a
Tier 3 method (about 50 calls a minute) taking up to 1,000 users a call. The invitations a
channel gets while its last call is out go together in the next one; a refusal that may be one
user's is asked again user by user, so each newcomer gets their own answer; the port never
calls past the tier, and a 429 is waited out.
"""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.port import SlackPort
from bot.core import ChannelRef, CommunityRef, UserError, UserRef
from bot.core.pacing import SLACK_TIER_3, Limits
from sandbox.slack import FakeSlack
from sandbox.slack.faults import TierLimit


def _port(fake: FakeSlack, speed: float = 1.0) -> SlackPort:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return SlackPort(client, limits=Limits(speed=speed))


def _invited(fake: FakeSlack) -> list[list[str]]:
    return [
        str(c.args["users"]).split(",")
        for c in fake.calls_to("conversations.invite")
        if c.body.get("ok")
    ]


async def _burst_behind_a_held_call(
    fake: FakeSlack, port: SlackPort, channel: str, first: str, burst: list[str]
) -> list[BaseException | None]:
    """``first`` is invited and Slack holds its answer while ``burst`` is invited; then it
    answers. What each invitation of the burst came to (None: done)."""
    community = CommunityRef("slack", fake.team.id)
    release = asyncio.Event()
    fake.faults.stall_after("conversations.invite", release.wait, channel=channel)
    where = ChannelRef(community, channel)
    held = asyncio.create_task(port.add_to_channel(UserRef(community, first), where, reason="t"))
    await fake.wait_for(lambda: fake.calls_to("conversations.invite"))
    rest = [
        asyncio.create_task(port.add_to_channel(UserRef(community, u), where, reason="t"))
        for u in burst
    ]
    await asyncio.sleep(0.05)
    release.set()
    await held
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    await fake.settle()
    return [o if isinstance(o, BaseException) else None for o in outcomes]


async def test_invitations_waiting_for_a_channel_go_in_one_call(fake_slack: FakeSlack) -> None:
    welcome = fake_slack.add_channel("welcome").id
    people = [fake_slack.add_user(f"new{i}", in_general=False).id for i in range(6)]

    outcomes = await _burst_behind_a_held_call(
        fake_slack, _port(fake_slack), welcome, people[0], people[1:]
    )

    assert outcomes == [None] * 5
    assert _invited(fake_slack) == [[people[0]], people[1:]]
    assert set(people) <= set(fake_slack.world.channels[welcome].members)


async def test_one_member_already_there_does_not_keep_the_others_out(
    fake_slack: FakeSlack,
) -> None:
    """Slack refuses the whole call when one user is in the channel already: each is then
    asked alone, and everyone ends up in it (already there is fine)."""
    welcome = fake_slack.add_channel("welcome").id
    people = [fake_slack.add_user(f"new{i}", in_general=False).id for i in range(4)]
    await fake_slack.joins(people[2], welcome)

    outcomes = await _burst_behind_a_held_call(
        fake_slack, _port(fake_slack), welcome, people[0], people[1:]
    )

    assert outcomes == [None] * 3
    assert _invited(fake_slack) == [[people[0]], [people[1]], [people[3]]]
    assert set(people) <= set(fake_slack.world.channels[welcome].members)


async def test_a_refusal_of_the_channel_is_everyones_answer_at_once(
    fake_slack: FakeSlack,
) -> None:
    """The app is not in the channel: every invitation of the batch hears it, without a call
    per user."""
    closed = fake_slack.add_channel("closed", bot_member=False).id
    people = [fake_slack.add_user(f"new{i}", in_general=False).id for i in range(4)]
    port = _port(fake_slack)
    community = CommunityRef("slack", fake_slack.team.id)
    where = ChannelRef(community, closed)
    outcomes = await asyncio.gather(
        *(port.add_to_channel(UserRef(community, u), where, reason="t") for u in people),
        return_exceptions=True,
    )
    assert all(isinstance(o, UserError) for o in outcomes), outcomes
    assert len(fake_slack.calls_to("conversations.invite")) <= 2


async def test_the_port_stays_within_the_tier_and_waits_out_a_429(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invitations one after another, more than the tier's 50 in a minute (a minute of one
    second here, on both sides): the port waits its turn and earns no 429; one it is given
    anyway (another app of the workspace's...) is waited out, Retry-After as said."""
    speed = 60.0
    fake_slack.tier_limit = TierLimit(speed=speed)
    port = _port(fake_slack, speed)
    community = CommunityRef("slack", fake_slack.team.id)
    welcome = ChannelRef(community, fake_slack.add_channel("welcome").id)
    people = [fake_slack.add_user(f"new{i}", in_general=False).id for i in range(SLACK_TIER_3 + 5)]
    for user in people:
        await port.add_to_channel(UserRef(community, user), welcome, reason="t")
    calls = fake_slack.calls_to("conversations.invite")
    assert [c.status for c in calls] == [200] * len(people)
    assert calls[SLACK_TIER_3].at - calls[0].at >= fake_slack.tier_limit.minute * 0.99

    fake_slack.faults.rate_limit(1, retry_after=1, method="conversations.invite")
    late = fake_slack.add_user("late", in_general=False).id
    await port.add_to_channel(UserRef(community, late), welcome, reason="t")
    refused, done = fake_slack.calls_to("conversations.invite")[-2:]
    assert (refused.status, done.status) == (429, 200)
    assert done.at - refused.at >= 1.0
    assert late in fake_slack.world.channels[welcome.id].members
