"""Where the fake is as strict as a real workspace: scopes, Block Kit, response_url, limits."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import FakeSlack


def _client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)


async def test_a_missing_scope_is_refused_with_what_was_needed_and_granted(
    fake_slack: FakeSlack,
) -> None:
    alice = fake_slack.add_user("alice")
    public = fake_slack.add_channel("lobby", members=[])
    private = fake_slack.add_channel("staff", members=[], is_private=True)
    fake_slack.grant_bot_scopes(["chat:write", "channels:manage"], steward_s=False)
    client = _client(fake_slack)
    await client.conversations_invite(channel=public.id, users=alice.id)
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_invite(channel=private.id, users=alice.id)
    assert refused.value.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "groups:write",
        "provided": "channels:manage,chat:write",
    }
    with pytest.raises(SlackApiError) as no_users:
        await client.users_info(user=alice.id)
    assert no_users.value.response["needed"] == "users:read"
    assert alice.id not in fake_slack.world.channels[private.id].members


async def test_a_missing_scope_of_stewards_manifest_is_a_violation(fake_slack: FakeSlack) -> None:
    fake_slack.grant_bot_scopes(["chat:write"])  # as if Steward's manifest said only this
    with pytest.raises(SlackApiError):
        await _client(fake_slack).users_list()
    assert [str(v) for v in fake_slack.violations] == [
        "[scope] users.list: needs users:read, which Steward's manifest lacks"
    ]
    fake_slack.violations.clear()
