"""users.list as Slack serves it, and Steward's listing of a whole workspace through it.

On each connection Steward lists the workspace, so onboarding can welcome who joined while no
Steward ran (Slack stops redelivering a join after a few minutes). users.list is Tier 2 (about
20 calls a minute) and answers at most 1,000 people a page: the port asks for full pages, waits
its turn within the tier, and keeps only people (no bots, deactivated accounts or Slackbot).
"""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import port as port_module
from bot.adapters.slack.port import SlackPort
from bot.core import CommunityRef
from bot.core.pacing import SLACK_TIER_2, Limits
from sandbox.slack import FakeSlack
from sandbox.slack.faults import TIER_2, TierLimit
from sandbox.slack.state import User


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)


async def test_users_list_answers_at_most_1000_a_page_and_20_calls_a_minute(
    fake_slack: FakeSlack,
) -> None:
    """A larger limit is answered with 1,000 people and a cursor to the rest; the 21st call in
    a minute (one second here) is refused with 429 and Retry-After, as a Tier 2 method's."""
    fake_slack.tier_limit = TierLimit(speed=60.0)
    for i in range(1200):
        fake_slack.add_user(f"p{i}", in_general=False)
    client = _client(fake_slack)
    first = await client.users_list(limit=5000)
    assert len(first["members"]) == 1000
    cursor = first["response_metadata"]["next_cursor"]
    assert cursor
    rest = await client.users_list(limit=5000, cursor=cursor)
    assert len(rest["members"]) == 1201 - 1000  # the bot user too
    assert rest["response_metadata"]["next_cursor"] == ""
    fake_slack.tier_limit = TierLimit(speed=60.0)  # the pages took longer than its minute
    for _ in range(TIER_2):
        await client.users_list(limit=1)
    with pytest.raises(SlackApiError) as refused:
        await client.users_list(limit=1)
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    assert refused.value.response.headers["Retry-After"] == "1"


async def test_the_port_lists_the_workspace_s_people_in_full_pages_within_the_tier(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """25 people in 3 calls of 10 (1,000 on Slack: the fake checks every user object it
    answers, which 1,000 a page would make slow here), bots, deactivated accounts and Slackbot
    left out, the least recently updated first; listing again and again (more than the tier's
    calls in its minute, one second here on both sides) the port waits its turn and earns no
    429."""
    monkeypatch.setattr(port_module, "ROSTER_PAGE", 10)
    speed = 60.0
    fake_slack.tier_limit = TierLimit(speed=speed)
    people = [fake_slack.add_user(f"p{i}", in_general=False) for i in range(25)]
    people[0].updated += 10  # updated last: listed last
    fake_slack.add_user("robot", is_bot=True)
    fake_slack.add_user("gone", deleted=True)
    slackbot = User("USLACKBOT", fake_slack.team.id, "slackbot", "Slackbot")
    fake_slack.world.users[slackbot.id] = slackbot
    client = _client(fake_slack)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    port = SlackPort(client, limits=Limits(speed=speed))
    community = CommunityRef("slack", fake_slack.team.id)

    everyone = await port.everyone(community)
    assert [m.ref.id for m in everyone] == [p.id for p in people[1:]] + [people[0].id]
    assert [c.args.get("limit") for c in fake_slack.calls_to("users.list")] == ["10"] * 3
    assert await port.count_members(community) == 25  # counted by the listing: no call
    assert len(fake_slack.calls_to("users.list")) == 3

    for _ in range(SLACK_TIER_2 // 3 + 1):
        await port.everyone(community)
    calls = fake_slack.calls_to("users.list")
    assert [c.status for c in calls] == [200] * len(calls)
    assert calls[SLACK_TIER_2].at - calls[0].at >= fake_slack.tier_limit.minute * 0.99
