"""Where the fake is as strict as a real workspace: scopes, Block Kit, response_url, limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack import FakeSlack, answers, scopes

Connect = Callable[[AsyncApp], Awaitable[None]]


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


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _button(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": _plain("Go"), "action_id": f"go{i}", **extra}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _options(n: int) -> list[dict[str, Any]]:
    return [{"text": _plain(f"o{i}"), "value": str(i)} for i in range(n)]


BAD_MESSAGES = [
    pytest.param([_section("hi")] * 51, "blocks: 51, at most 50 in a message", id="51-blocks"),
    pytest.param([_section("x" * 3001)], "blocks[0].text.text: 3001 characters", id="section"),
    pytest.param(
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "blocks[0].fields: 11, at most 10",
        id="fields",
    ),
    pytest.param(
        [{"type": "header", "text": _plain("h" * 151)}],
        "blocks[0].text.text: 151 characters, at most 150",
        id="header",
    ),
    pytest.param(
        [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
        "blocks[0].text: type must be plain_text, got 'mrkdwn'",
        id="header-mrkdwn",
    ),
    pytest.param(
        [{"type": "actions", "elements": [_button(i) for i in range(26)]}],
        "blocks[0].elements: 26, at most 25",
        id="26-buttons",
    ),
    pytest.param(
        [{"type": "actions", "elements": [_button(action_id="a" * 256)]}],
        "blocks[0].elements[0].action_id: at most 255 characters",
        id="action-id",
    ),
    pytest.param(
        [{**_section("s"), "block_id": "b" * 256}],
        "blocks[0].block_id: at most 255 characters",
        id="block-id",
    ),
    pytest.param(
        [{**_section("s"), "block_id": "b"}, {**_section("t"), "block_id": "b"}],
        "blocks[1].block_id: 'b' is used twice",
        id="block-id-twice",
    ),
    pytest.param(
        [{"type": "actions", "elements": [_button(text=_plain("b" * 76))]}],
        "blocks[0].elements[0].text.text: 76 characters, at most 75",
        id="button-text",
    ),
    pytest.param(
        [
            {
                "type": "actions",
                "elements": [{"type": "static_select", "action_id": "s", "options": _options(101)}],
            }
        ],
        "blocks[0].elements[0].options: 101, at most 100",
        id="101-options",
    ),
    pytest.param(
        [{"type": "carousel"}], "blocks[0]: block type 'carousel' is not allowed", id="type"
    ),
    pytest.param(
        [{"type": "actions", "elements": [{"type": "button", "action_id": "x"}]}],
        "blocks[0].elements[0].text: a text object is required",
        id="button-no-text",
    ),
]


@pytest.mark.parametrize(("blocks", "problem"), BAD_MESSAGES)
async def test_block_kit_beyond_slacks_rules_is_refused_and_flagged(
    fake_slack: FakeSlack, blocks: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(SlackApiError) as refused:
        await _client(fake_slack).chat_postMessage(channel="general", text="t", blocks=blocks)
    assert refused.value.response["error"] == "invalid_blocks"
    assert fake_slack.messages_in("general") == []
    found = [v.message for v in fake_slack.violations if v.kind == "blocks"]
    assert any(problem in message for message in found), found
    fake_slack.violations.clear()


async def test_a_view_beyond_slacks_rules_is_refused_and_flagged(fake_slack: FakeSlack) -> None:
    alice = fake_slack.add_user("alice")
    input_block = {
        "type": "input",
        "label": _plain("Name"),
        "element": {"type": "plain_text_input", "action_id": "n"},
    }
    view = {
        "type": "modal",
        "title": _plain("A title of more than 24 characters"),
        "blocks": [input_block] + [_section("s")] * 100,
    }
    with pytest.raises(SlackApiError) as refused:
        await _client(fake_slack).views_publish(user_id=alice.id, view=dict(view, type="home"))
    assert refused.value.response["error"] == "invalid_arguments"
    assert [v.message for v in fake_slack.violations] == ["blocks: 101, at most 100 in a home"]
    fake_slack.violations.clear()
    trigger = fake_slack.api.issue_trigger(alice.id, fake_slack.team.id)
    with pytest.raises(SlackApiError):
        await _client(fake_slack).views_open(trigger_id=trigger, view=view)
    assert [v.message for v in fake_slack.violations] == [
        "view.title.text: 34 characters, at most 24",
        "view.submit: required when the modal has input blocks",
        "blocks: 101, at most 100 in a modal",
    ]
    fake_slack.violations.clear()


async def test_acks_and_response_url_posts_are_held_to_their_documented_fields(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app(process_before_response=False)

    @app.command("/odd")
    async def odd(ack: Any, respond: Any, body: dict[str, Any]) -> None:
        await ack(text="fine", response_type="in_channel")
        await respond(text="also fine", replace_original=False)
        hook = AsyncWebhookClient(body["response_url"])
        await hook.send_dict({"text": "not fine", "sparkle": True})  # not a response_url field

    @app.command("/bad-ack")
    async def bad_ack(ack: Any) -> None:
        await ack(blocks=[{"type": "header", "text": _plain("h" * 151)}])

    await socket_mode(app)
    alice = fake_slack.add_user("alice")
    await fake_slack.slash(alice, "/odd")
    await fake_slack.settle()
    assert [str(v) for v in fake_slack.violations] == [
        "[response_url] response_url: <root>: Additional properties are not allowed "
        "('sparkle' was unexpected)"
    ]
    fake_slack.violations.clear()
    await fake_slack.slash(alice, "/bad-ack")
    await fake_slack.settle()
    assert [str(v) for v in fake_slack.violations] == [
        "[ack] slash ack: blocks[0].text.text: 151 characters, at most 150"
    ]
    fake_slack.violations.clear()


def test_a_view_submission_answer_and_a_socket_ack_follow_the_docs() -> None:
    assert answers.check_ack(
        "interactive", {"type": "view_submission"}, {"response_action": "errors"}
    ) == ["<root>: 'errors' is a required property"]
    assert answers.check_ack(
        "interactive", {"type": "view_submission"}, {"response_action": "close"}
    ) == ["response_action: 'close' is not one of ['errors', 'update', 'push', 'clear']"]
    assert answers.check_ack("event", {}, {"text": "hi"}) == [
        "event: Slack reads no answer body here"
    ]
    assert answers.check_socket_ack({"envelope_id": "e1", "payload": {"text": "x"}}, False) == [
        "payload: this envelope does not accept a response payload"
    ]
    assert answers.check_socket_ack({"envelope_id": "e1", "payload": {}}, False) == []


async def test_a_reply_to_a_thread_that_does_not_exist_is_flagged(fake_slack: FakeSlack) -> None:
    await _client(fake_slack).chat_postMessage(channel="general", text="t", thread_ts="1.000001")
    assert [str(v) for v in fake_slack.violations] == [
        f"[request] chat.postMessage: thread_ts 1.000001 names no message in "
        f"{fake_slack.general().id}"
    ]
    fake_slack.violations.clear()


async def test_verb_encoding_and_token_placement_are_checked(fake_slack: FakeSlack) -> None:
    alice = fake_slack.add_user("alice")
    url = f"{fake_slack.api_url}users.info"
    auth = {"Authorization": f"Bearer {fake_slack.bot_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"user": alice.id}, headers=auth) as answer:
            assert (await answer.json())["error"] == "user_not_found"  # the JSON is not read
        async with http.put(url, data={"user": alice.id}, headers=auth) as answer:
            await answer.read()
        body = {"token": fake_slack.bot_token, "channel": "general", "text": "hi"}
        async with http.post(f"{fake_slack.api_url}chat.postMessage", json=body) as answer:
            await answer.read()
    assert [v.message for v in fake_slack.violations] == [
        "sent as JSON, which this method does not read: send a form",
        "HTTP PUT: Slack's Web API takes GET or POST",
        "token in a JSON body: send it as an Authorization header",
    ]
    fake_slack.violations.clear()


async def test_an_event_is_sent_only_with_its_scope(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()
    seen: list[str] = []

    @app.event("reaction_added")
    async def reacted(event: dict[str, Any]) -> None:
        seen.append(event["reaction"])

    @app.event("message")
    async def said(event: dict[str, Any]) -> None:
        seen.append(event["text"])

    await socket_mode(app)
    alice = fake_slack.add_user("alice")
    first = await fake_slack.user_says(alice, "general", "hello")
    await fake_slack.react(alice, first, "tada")
    fake_slack.grant_bot_scopes(["channels:history"], steward_s=False)
    await fake_slack.react(alice, first, "eyes")
    await fake_slack.user_says(alice, "general", "again")
    await fake_slack.settle()
    assert seen == ["hello", "tada", "again"]  # no reactions:read: no reaction_added
    assert scopes.event_scope({"type": "reaction_added"}, lambda _: None) == "reactions:read"
    assert (
        scopes.event_scope({"type": "message", "channel_type": "group"}, lambda _: None)
        == "groups:history"
    )
    kinds = {"C1": "channel"}
    assert scopes.event_scope({"type": "member_joined_channel", "channel": "C1"}, kinds.get) == (
        "channels:read"
    )
