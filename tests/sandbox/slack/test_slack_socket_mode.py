"""A real slack-bolt AsyncApp in Socket Mode against the fake Slack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from sandbox.slack import FakeSlack

Connect = Callable[[AsyncApp], Awaitable[None]]


async def test_message_reaches_listener_and_say_lands_in_channel(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()

    @app.message("hello")
    async def greet(message: dict[str, Any], say: Any) -> None:
        await say(f"Hi <@{message['user']}>!")

    await socket_mode(app)
    alice = fake_slack.add_user("alice")
    await fake_slack.user_says(alice, "general", "hello there")
    await fake_slack.settle()

    replies = fake_slack.messages_in("general", by=fake_slack.bot_user_id)
    assert [m.text for m in replies] == [f"Hi <@{alice.id}>!"]
    assert replies[0].pings.users == {alice.id}
    assert len(fake_slack.calls_to("auth.test")) == 1
    assert fake_slack.calls_to("apps.connections.open")[0].token == fake_slack.app_token


async def test_slash_ack_and_respond_are_seen_only_by_the_invoker(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()

    @app.command("/moderation")
    async def moderation(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack(f"working on `{command['text']}`")
        await respond(text="warned")

    await socket_mode(app)
    mod, bob = fake_slack.add_user("mod", is_admin=True), fake_slack.add_user("bob")
    shown = await fake_slack.slash(mod, "/moderation", f"warn <@{bob.id}> spam")
    await fake_slack.settle()

    # process_before_response=True: respond() output arrives before the ack body.
    assert shown.texts == ["warned", f"working on `warn <@{bob.id}> spam`"]
    assert shown.ephemeral and shown.error is None
    assert [e.text for e in fake_slack.ephemerals_of(mod)] == shown.texts
    assert fake_slack.ephemerals_of(bob) == []
    assert fake_slack.messages_in("general") == []
    assert fake_slack.pinging_messages() == []
    unaffected = await fake_slack.slash(mod, "/moderation", "show payload")  # the HTTP-only bug
    assert unaffected.error is None and unaffected.ack == {"text": "working on `show payload`"}


def _vote_blocks() -> list[dict[str, Any]]:
    button = {"type": "plain_text", "text": "Report"}
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Something wrong?"}},
        {
            "type": "actions",
            "block_id": "act",
            "elements": [{"type": "button", "action_id": "report", "text": button, "value": "r1"}],
        },
    ]


def _report_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "report_form",
        "title": {"type": "plain_text", "text": "Report"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "why",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "reason"},
            }
        ],
    }


async def test_button_click_opens_modal_and_submission_reaches_bolt(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()
    received: list[str] = []

    @app.message("help")
    async def offer(say: Any) -> None:
        await say(text="Something wrong?", blocks=_vote_blocks())

    @app.action("report")
    async def report(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=_report_modal())

    @app.view("report_form")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        reason = view["state"]["values"]["why"]["reason"]["value"]
        if len(reason) < 3:
            await ack(response_action="errors", errors={"why": "Say a little more"})
            return
        received.append(reason)
        await ack()

    await socket_mode(app)
    alice = fake_slack.add_user("alice")
    await fake_slack.user_says(alice, "general", "help")
    await fake_slack.settle()
    prompt = fake_slack.messages_in("general", by=fake_slack.bot_user_id)[-1]

    clicked = await fake_slack.click(alice, prompt, "report")
    assert clicked.delivery.ok
    modal = fake_slack.modal_of(alice)
    assert modal is not None and modal.callback_id == "report_form"

    short = await fake_slack.submit_view(alice, modal, {"reason": "no"})
    assert short.action == "errors" and short.errors == {"why": "Say a little more"}
    assert fake_slack.modal_of(alice) is modal

    done = await fake_slack.submit_view(alice, modal, {"reason": "spam links"})
    assert done.action == "close" and received == ["spam links"]
    assert fake_slack.modal_of(alice) is None


async def recording_app(make_app: Callable[..., AsyncApp], socket_mode: Connect) -> list[str]:
    """A Socket Mode app that records the text of every message it receives."""
    app = make_app()
    seen: list[str] = []

    @app.message("")
    async def record(message: dict[str, Any]) -> None:
        seen.append(message["text"])

    await socket_mode(app)
    return seen


async def test_disconnect_mid_stream_loses_no_event(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    seen = await recording_app(make_app, socket_mode)
    alice = fake_slack.add_user("alice")
    await fake_slack.user_says(alice, "general", "one")
    fake_slack.drop_socket_mid_stream(1)
    await fake_slack.user_says(alice, "general", "two")
    assert fake_slack.socket.connects == 2  # the client reconnected after the drop
    await fake_slack.socket_disconnect("refresh_requested")
    await fake_slack.wait_for(lambda: fake_slack.socket.connects == 3)
    await fake_slack.user_says(alice, "general", "three")
    await fake_slack.settle()

    assert sorted(set(seen)) == ["one", "three", "two"]
    two = fake_slack.deliveries[1]
    assert [a.outcome for a in two.attempts] == ["lost", "ok"]
    redelivered = [f for f in fake_slack.socket.sent if f["envelope_id"] == two.envelope_id]
    assert [(f["retry_attempt"], f["retry_reason"]) for f in redelivered] == [(1, "timeout")]
    assert all(d.ok for d in fake_slack.deliveries)
    assert len(fake_slack.calls_to("apps.connections.open")) == 3


async def test_an_outage_loses_what_is_sent_until_the_link_is_back(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    seen = await recording_app(make_app, socket_mode)
    alice = fake_slack.add_user("alice")
    await fake_slack.socket_outage()
    assert not fake_slack.socket.connected
    lost = await fake_slack.user_says(alice, "general", "into the void")
    fake_slack.socket_restored()
    await fake_slack.wait_for(lambda: fake_slack.socket.connects == 2)
    await fake_slack.user_says(alice, "general", "back")
    await fake_slack.settle()

    assert seen == ["back"]
    gone = next(d for d in fake_slack.deliveries if d.payload["event"]["ts"] == lost.ts)
    assert [a.outcome for a in gone.attempts] == ["connection_failed"] * 4  # first try, 3 retries
    assert len(fake_slack.calls_to("apps.connections.open")) == 2


async def test_events_are_spread_over_an_apps_connections_and_a_lost_one_sent_again(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    """Slack spreads an app's envelopes over its open connections (several processes each
    have one); an envelope lost with its connection goes again, on one that is open."""
    heard: list[tuple[int, str]] = []

    def listener(n: int) -> Callable[..., Awaitable[None]]:
        async def listen(message: dict[str, Any]) -> None:
            heard.append((n, message["text"]))

        return listen

    for n in range(2):
        app = make_app()
        app.message("note")(listener(n))
        await socket_mode(app)
    await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 2)
    alice = fake_slack.add_user("alice")
    for i in range(6):
        await fake_slack.user_says(alice, "general", f"note {i}")
    fake_slack.socket.drop_next = 1  # the next envelope is lost with its connection
    await fake_slack.user_says(alice, "general", "note lost once")
    await fake_slack.settle()

    assert sorted(text for _, text in heard) == sorted(
        [f"note {i}" for i in range(6)] + ["note lost once"]
    )
    assert {n for n, text in heard if text != "note lost once"} == {0, 1}


async def test_an_app_past_ten_connections_is_told_too_many_websockets(
    fake_slack: FakeSlack,
) -> None:
    """Slack keeps 10 Socket Mode connections per app open: the 11th gets a ``disconnect``
    (``too_many_websockets``) instead of ``hello`` and is closed; the 10 stay. Once one of them
    closes, a new one is welcome again."""
    import aiohttp
    from slack_sdk.web.async_client import AsyncWebClient

    fake_slack.use_socket_mode()
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(base_url=fake_slack.api_url, session=session)

        async def connect() -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
            opened = await client.apps_connections_open(app_token=fake_slack.app_token)
            assert opened["ok"]
            ws = await session.ws_connect(str(opened["url"]))
            return ws, await ws.receive_json(timeout=5)

        held = [await connect() for _ in range(10)]
        assert [first["type"] for _, first in held] == ["hello"] * 10
        assert held[-1][1]["num_connections"] == 10
        extra, first = await connect()
        assert (first["type"], first["reason"]) == ("disconnect", "too_many_websockets")
        assert (await extra.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE
        assert fake_slack.socket.refused == 1
        assert sum(not ws.closed for ws in fake_slack.socket.connections.values()) == 10

        await held[0][0].close()
        await fake_slack.wait_for(lambda: len(fake_slack.socket.connections) == 9)
        again, first = await connect()
        assert first["type"] == "hello"
        for ws, _ in [*held[1:], (again, {})]:
            await ws.close()
