"""A real slack-bolt AsyncApp served over HTTP (signed requests) against the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp

from sandbox.slack import FakeSlack

Serve = Callable[[AsyncApp], Awaitable[str]]


async def test_message_reaches_listener_and_own_echo_is_ignored(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()

    @app.message("hello")
    async def greet(message: dict[str, Any], say: Any) -> None:
        await say(text=f"Hi <@{message['user']}>!", unfurl_links=False, unfurl_media=False)

    await http_mode(app)
    alice = fake_slack.add_user("alice")
    await fake_slack.user_says(alice, "general", "hello")
    await fake_slack.settle()

    [reply] = fake_slack.messages_in("general", by=fake_slack.bot_user_id)
    assert reply.text == f"Hi <@{alice.id}>!"
    assert reply.options == {"unfurl_links": False, "unfurl_media": False}
    echo = fake_slack.deliveries[-1]  # the bot's own post, echoed back: acked, not answered
    assert echo.payload["event"]["bot_id"] == fake_slack.bot_id
    assert echo.ok and echo.attempts[0].status == 200
    assert len(fake_slack.calls_to("auth.test")) == 1


async def test_slash_ack_and_respond_are_ephemeral_to_the_invoker(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app(process_before_response=False)

    @app.command("/moderation")
    async def moderation(ack: Any, respond: Any) -> None:
        await ack("on it")
        await respond(text="warned")

    await http_mode(app)
    mod, bob = fake_slack.add_user("mod", is_admin=True), fake_slack.add_user("bob")
    shown = await fake_slack.slash(mod, "/moderation", "warn bob")
    await fake_slack.wait_for(lambda: len(shown.shown) == 2)

    assert shown.status == 200 and shown.ack == {"text": "on it"}
    assert set(shown.texts) == {"on it", "warned"} and shown.ephemeral
    assert fake_slack.sees(bob, "general") == []
    assert [e.text for e in fake_slack.sees(mod, "general")] == shown.texts


async def test_slash_text_containing_payload_hits_bolts_form_parsing_bug(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()

    @app.command("/moderation")
    async def moderation(ack: Any) -> None:
        await ack("ok")

    await http_mode(app)
    mod = fake_slack.add_user("mod")
    fine = await fake_slack.slash(mod, "/moderation", "show cases")
    broken = await fake_slack.slash(mod, "/moderation", "show payload")

    assert fine.texts == ["ok"]
    assert broken.status == 404  # Bolt parses any form body containing "payload" as interactivity
    assert broken.error == "dispatch_failed"
    assert (
        fake_slack.ephemerals_of(mod)[-1].text
        == '/moderation failed with the error "dispatch_failed"'
    )


async def test_click_and_view_submission_arrive_as_signed_payload_forms(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()
    got: list[str] = []

    @app.command("/intro")
    async def intro(ack: Any, say: Any) -> None:
        await ack()
        button = {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
        await say(
            text="Tell us", blocks=[{"type": "actions", "block_id": "a", "elements": [button]}]
        )

    @app.action("go")
    async def go(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        await ack()
        element = {"type": "static_select", "action_id": "team", "options": _options("red", "blue")}
        view = {
            "type": "modal",
            "callback_id": "intro",
            "title": {"type": "plain_text", "text": "Intro"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [_input("who", "team", element)],
        }
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        await respond(replace_original=True, text="Thanks!")

    @app.view("intro")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        got.append(view["state"]["values"]["who"]["team"]["selected_option"]["value"])
        await ack()

    await http_mode(app)
    alice = fake_slack.add_user("alice")
    await fake_slack.slash(alice, "/intro")
    await fake_slack.settle()
    prompt = fake_slack.messages_in("general")[-1]
    click = await fake_slack.click(alice, prompt, "go")
    assert click.status == 200
    assert fake_slack.messages_in("general")[-1].text == "Thanks!"  # replace_original

    modal = fake_slack.modal_of(alice)
    assert modal is not None
    outcome = await fake_slack.submit_view(alice, modal, {"team": "blue"})
    assert outcome.action == "close" and got == ["blue"]


def _options(*values: str) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]


def _input(block_id: str, action_id: str, element: dict[str, Any]) -> dict[str, Any]:
    element = dict(element, action_id=action_id)
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "label": label, "element": element}


async def test_late_ack_makes_slack_retry_the_event_with_retry_headers(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()
    retries: list[tuple[str, str]] = []

    @app.event("reaction_added")
    async def reacted(req: Any) -> None:
        headers = req.headers
        retries.append(
            (
                headers.get("x-slack-retry-num", ["-"])[0],
                headers.get("x-slack-retry-reason", ["-"])[0],
            )
        )

    await http_mode(app)
    fake_slack.config.ack_deadline = 1.0
    alice = fake_slack.add_user("alice")
    msg = await fake_slack.user_says(alice, "general", "nice")
    fake_slack.slow_acks(1)
    await fake_slack.react(alice, msg, "tada")
    await fake_slack.settle()

    assert retries == [("-", "-"), ("1", "http_timeout")]
    delivery = fake_slack.deliveries[-1]
    assert [a.outcome for a in delivery.attempts] == ["timeout", "ok"]
    assert delivery.attempts[0].status == 200  # the late answer is still recorded


async def test_server_error_is_retried_and_slow_slash_times_out(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()
    calls: list[str] = []

    @app.event("reaction_added")
    async def flaky(req: Any) -> None:
        calls.append(req.headers.get("x-slack-retry-reason", ["-"])[0])
        if len(calls) == 1:
            raise RuntimeError("boom")  # Bolt answers 500

    @app.command("/slow")
    async def slow(ack: Any) -> None:
        await ack("too late")

    await http_mode(app)
    fake_slack.config.ack_deadline = 1.0
    alice = fake_slack.add_user("alice")
    msg = await fake_slack.user_says(alice, "general", "nice")
    await fake_slack.react(alice, msg, "tada")
    assert calls == ["-", "http_error"]

    fake_slack.slow_acks(1)
    late = await fake_slack.slash(alice, "/slow")
    assert late.error == "operation_timeout" and late.texts == [
        '/slow failed with the error "operation_timeout"'
    ]


def _event_body(fake: FakeSlack, *, pretty: bool = False) -> bytes:
    payload = {
        "token": "t",
        "team_id": fake.team.id,
        "api_app_id": "A0STEWARD01",
        "type": "event_callback",
        "event_id": "Ev0000000SIG",
        "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": "U1", "reaction": "x", "event_ts": "1.2"},
    }
    return json.dumps(payload, indent=2 if pretty else None).encode()


SignatureCase = Callable[[FakeSlack], tuple[bytes, dict[str, str]]]


def _signed(fake: FakeSlack, offset: int = 0) -> tuple[bytes, dict[str, str]]:
    body = _event_body(fake)
    return body, fake.signed_headers(body, timestamp=int(time.time()) + offset)


def _reserialised(fake: FakeSlack) -> tuple[bytes, dict[str, str]]:
    return _event_body(fake, pretty=True), fake.signed_headers(_event_body(fake))


def _bad_signature(fake: FakeSlack) -> tuple[bytes, dict[str, str]]:
    body, headers = _signed(fake)
    return body, dict(headers, **{"X-Slack-Signature": "v0=" + "0" * 64})


def _without(header: str) -> SignatureCase:
    def case(fake: FakeSlack) -> tuple[bytes, dict[str, str]]:
        body, headers = _signed(fake)
        headers.pop(header)
        return body, headers

    return case


def _wrong_secret(fake: FakeSlack) -> tuple[bytes, dict[str, str]]:
    body = _event_body(fake)
    from sandbox.slack import sign

    return body, sign("not-the-secret", body, int(time.time()))


@pytest.mark.parametrize(
    ("case", "status"),
    [
        pytest.param(_signed, 200, id="valid"),
        pytest.param(lambda f: _signed(f, -301), 401, id="stale-timestamp"),
        pytest.param(lambda f: _signed(f, 301), 401, id="future-timestamp"),
        pytest.param(lambda f: _signed(f, 299), 200, id="future-within-window-accepted"),
        pytest.param(_reserialised, 401, id="re-serialised-body"),
        pytest.param(_bad_signature, 401, id="bad-signature"),
        pytest.param(_wrong_secret, 401, id="wrong-secret"),
        pytest.param(_without("X-Slack-Signature"), 401, id="missing-signature"),
        pytest.param(_without("X-Slack-Request-Timestamp"), 401, id="missing-timestamp"),
    ],
)
async def test_signature_table(
    fake_slack: FakeSlack,
    make_app: Callable[..., AsyncApp],
    http_mode: Serve,
    case: SignatureCase,
    status: int,
) -> None:
    app = make_app()

    @app.event("reaction_added")
    async def noop() -> None:
        pass

    await http_mode(app)
    body, headers = case(fake_slack)
    answer = await fake_slack.send_raw(body, {"Content-Type": "application/json", **headers})
    assert answer.status == status, answer.body


async def test_replays_inside_the_window_are_accepted_outside_rejected(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()
    handled: list[str] = []

    @app.event("reaction_added")
    async def count(event: dict[str, Any]) -> None:
        handled.append(event["reaction"])

    await http_mode(app)
    body = _event_body(fake_slack)
    fresh = fake_slack.signed_headers(body)
    captured = fake_slack.signed_headers(body, timestamp=int(time.time()) - 400)
    statuses = [
        (await fake_slack.send_raw(body, {"Content-Type": "application/json", **h})).status
        for h in (fresh, fresh, captured)
    ]
    # The signature proves origin, not uniqueness: Bolt runs a replay twice; dedupe on event_id.
    assert statuses == [200, 200, 401]
    assert handled == ["x", "x"]


async def test_unhandled_event_is_retried_three_times(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], http_mode: Serve
) -> None:
    app = make_app()
    await http_mode(app)
    alice = fake_slack.add_user("alice")
    delivery = await fake_slack.deliver_event(
        fake_slack.team.id,
        {"type": "team_join", "user": alice.to_api(), "event_ts": "1700000000.000001"},
    )
    # Bolt answers 404 when no listener matches, so Slack retries: subscribe only to handled events.
    assert [a.status for a in delivery.attempts] == [404, 404, 404, 404]
    assert not delivery.ok
