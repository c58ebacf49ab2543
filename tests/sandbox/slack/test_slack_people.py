"""People acting in the client (join, click an ephemeral, open Home, shortcuts) against Bolt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from sandbox.slack import FakeSlack

Connect = Callable[[AsyncApp], Awaitable[None]]


async def test_newcomer_gets_team_join_channel_join_and_a_welcome_dm(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()
    joined: list[str] = []

    @app.event("team_join")
    async def welcome(event: dict[str, Any], client: Any) -> None:
        await client.chat_postMessage(
            channel=event["user"]["id"], text="Welcome! Say hi in #general"
        )

    @app.event("member_joined_channel")
    async def note(event: dict[str, Any]) -> None:
        joined.append(event["channel"])

    @app.event("message")
    async def ignore() -> None:
        pass

    await socket_mode(app)
    dana = await fake_slack.member_joins("dana")
    await fake_slack.settle()

    assert [m.text for m in fake_slack.dms_of(dana)] == ["Welcome! Say hi in #general"]
    assert joined == [fake_slack.general().id]
    assert dana.id in fake_slack.general().members
    assert fake_slack.pinging_messages() == []


async def test_clicking_a_button_on_an_ephemeral_replaces_it(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()

    @app.command("/report")
    async def report(ack: Any, command: dict[str, Any], client: Any) -> None:
        await ack()
        button = {
            "type": "button",
            "action_id": "confirm",
            "text": {"type": "plain_text", "text": "Yes"},
        }
        await client.chat_postEphemeral(
            channel=command["channel_id"],
            user=command["user_id"],
            text="Sure?",
            blocks=[{"type": "actions", "block_id": "c", "elements": [button]}],
        )

    @app.action("confirm")
    async def confirm(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        assert body["container"]["is_ephemeral"] is True
        await respond(replace_original=True, text="Reported, thank you")

    await socket_mode(app)
    alice, bob = fake_slack.add_user("alice"), fake_slack.add_user("bob")
    await fake_slack.slash(alice, "/report")
    [question] = fake_slack.ephemerals_of(alice)
    clicked = await fake_slack.click(alice, question, "confirm")
    await fake_slack.settle()

    assert clicked.delivery.ok
    assert [e.text for e in fake_slack.ephemerals_of(alice)] == ["Reported, thank you"]
    assert fake_slack.sees(bob, "general") == []


async def test_home_tab_is_published_per_user_and_shortcut_opens_a_modal(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: Any) -> None:
        text = {"type": "mrkdwn", "text": f"Hello <@{event['user']}>"}
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "section", "text": text}]},
        )

    @app.shortcut("new_poll")
    async def poll(ack: Any, shortcut: dict[str, Any], client: Any) -> None:
        await ack()
        view = {
            "type": "modal",
            "callback_id": "poll",
            "title": {"type": "plain_text", "text": "Poll"},
            "blocks": [],
        }
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    await socket_mode(app)
    alice, bob = fake_slack.add_user("alice"), fake_slack.add_user("bob")
    await fake_slack.open_home(alice)
    await fake_slack.settle()
    view = fake_slack.home_of(alice)
    assert view is not None and view.rendered == f"Hello <@{alice.id}>"
    assert fake_slack.home_of(bob) is None

    await fake_slack.shortcut(bob, "new_poll")
    modal = fake_slack.modal_of(bob)
    assert modal is not None and modal.callback_id == "poll"
    await fake_slack.close_view(bob, modal)
    assert fake_slack.modal_of(bob) is None


async def test_select_menu_choice_reaches_the_action_listener(
    fake_slack: FakeSlack, make_app: Callable[..., AsyncApp], socket_mode: Connect
) -> None:
    app = make_app()
    picked: list[str] = []

    @app.action("level")
    async def level(ack: Any, action: dict[str, Any]) -> None:
        await ack()
        picked.append(action["selected_option"]["value"])

    await socket_mode(app)
    options = [{"text": {"type": "plain_text", "text": v}, "value": v} for v in ("low", "high")]
    menu = {"type": "static_select", "action_id": "level", "options": options}
    section = {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "How bad?"}}
    response = await app.client.chat_postMessage(
        channel=fake_slack.general().id, text="How bad?", blocks=[dict(section, accessory=menu)]
    )
    message = fake_slack.messages_in("general")[-1]
    assert message.ts == response["ts"]
    alice = fake_slack.add_user("alice")
    await fake_slack.select(alice, message, "level", "high")
    assert picked == ["high"]
