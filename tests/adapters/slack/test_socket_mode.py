"""Steward through the real slack-bolt over Socket Mode, against the fake Slack."""

from __future__ import annotations

import html
import logging

import pytest

from sandbox.slack import Ephemeral, Outcome
from tests.adapters.slack.conftest import SlackWorld


def _shown(outcome: Outcome) -> list[str]:
    """The text of each thing shown (the notification text, without blocks)."""
    return [html.unescape(shown.text) for shown in outcome.shown]


def _rendered(outcome: Outcome) -> list[str]:
    """Each thing shown with its blocks' text."""
    return [html.unescape(text) for text in outcome.texts]


async def test_admin_sets_and_shows_a_setting_privately(world: SlackWorld) -> None:
    fake = world.fake
    done = await fake.slash(world.admin, "/steward", "settings set garden greeting Hi there")
    await world.settle()
    assert done.ephemeral and _shown(done) == ["garden `greeting` is now Hi there."]
    shown = await fake.slash(world.admin, "/steward", "settings show garden greeting")
    await world.settle()
    assert shown.ephemeral
    [text] = _rendered(shown)
    assert "garden settings" in text and "greeting" in text and "Hi there" in text
    assert fake.sees(world.alice, "general") == []
    assert fake.ephemerals_of(world.alice) == []
    assert fake.messages_in("general") == []


async def test_member_is_refused_privately_and_nothing_changes(world: SlackWorld) -> None:
    fake = world.fake
    refused = await fake.slash(world.alice, "/steward", "settings set garden greeting x")
    await world.settle()
    assert refused.ephemeral
    assert _shown(refused) == ["Sorry, you need to be an admin to use /steward settings set."]
    assert fake.sees(world.admin, "general") == []
    shown = await fake.slash(world.admin, "/steward", "settings show garden greeting")
    await world.settle()
    assert "Welcome to the garden (default)" in _rendered(shown)[0]


async def test_button_and_multi_select_reach_the_feature(world: SlackWorld) -> None:
    fake = world.fake
    asked = await fake.slash(world.alice, "/desk", "ask")
    await world.settle()
    assert not asked.ephemeral and _shown(asked) == ["Do you like it?"]
    [question] = fake.messages_in("general")
    assert question.text == "Do you like it?"
    pressed = await fake.click(world.admin, question, "steward:desk:yes:1")
    await world.settle()
    assert pressed.ephemeral and _shown(pressed) == ["You pressed yes (1)"]
    picked = await fake.select(world.admin, question, "steward:desk:pick:", ["red", "blue"])
    await world.settle()
    assert picked.ephemeral and _shown(picked) == ["You picked red, blue"]
    assert fake.sees(world.bob, "general") == [question]


async def test_feedback_form_opens_and_the_answer_lands_privately(world: SlackWorld) -> None:
    fake = world.fake
    opened = await fake.slash(world.alice, "/desk", "feedback")
    await world.settle()
    [call] = fake.calls_to("views.open")
    assert call.args["trigger_id"] == opened.delivery.payload["trigger_id"]
    modal = fake.modal_of(world.alice)
    assert modal is not None and modal.data["title"]["text"] == "Feedback"
    sent = await fake.submit_view(world.alice, modal, {"text": "Lovely bot"})
    await world.settle()
    assert sent.action == "close" and fake.modal_of(world.alice) is None
    [answer] = fake.ephemerals_of(world.alice, "general")
    assert answer.text == "Thanks for: Lovely bot"
    assert fake.sees(world.bob, "general") == []


async def test_member_argument_arrives_as_a_member_with_a_level(world: SlackWorld) -> None:
    shown = await world.fake.slash(world.alice, "/desk", f"whois <@{world.admin.id}|ada>")
    await world.settle()
    assert shown.ephemeral and _shown(shown) == ["ada is an admin"]


async def test_newcomer_gets_a_welcome_dm(world: SlackWorld) -> None:
    fake = world.fake
    nina = await fake.member_joins("nina")
    await world.settle()
    assert sorted(m.text for m in fake.dms_of(nina)) == ["Welcome to the garden", "Welcome, nina!"]
    assert world.app.dispatcher.failures == 1  # only Garden's deliberately broken listener


async def test_help_and_an_empty_command_show_usage(world: SlackWorld) -> None:
    fake = world.fake
    for text in ("help", ""):
        shown = await fake.slash(world.alice, "/desk", text)
        await world.settle()
        [listing] = _rendered(shown)
        assert shown.ephemeral and "/desk" in listing and "ask" in listing and "whois" in listing
    admin_help = await fake.slash(world.admin, "/steward", "help")
    member_help = await fake.slash(world.alice, "/steward", "")
    await world.settle()
    assert "settings set" in _rendered(admin_help)[0]
    assert "settings set" not in _rendered(member_help)[0]


async def test_unknown_subcommand_explains_itself(world: SlackWorld) -> None:
    shown = await world.fake.slash(world.alice, "/desk", "dance now")
    await world.settle()
    [text] = _shown(shown)
    assert shown.ephemeral and "There's no `/desk dance`" in text and "ask" in text


async def test_app_home_is_published_when_opened(world: SlackWorld) -> None:
    fake = world.fake
    await fake.open_home(world.admin)
    await world.settle()
    home = fake.home_of(world.admin)
    assert home is not None
    assert "admin" in home.rendered and "settings set" in home.rendered


def _is_ephemeral(item: object) -> bool:
    return isinstance(item, Ephemeral)


async def test_a_refused_connection_is_told_to_the_operator_once(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refuses an app's 11th Socket Mode connection (``too_many_websockets``) and
    slack_sdk tries again and again: the operator reads once why this process gets no Slack
    events; when a connection is taken again, the events flow."""
    fake = world.fake
    with caplog.at_level(logging.WARNING, logger="steward.slack"):
        fake.socket.limit = 0  # other processes hold the app's 10 connections
        await fake.socket.disconnect("refresh_requested")
        await fake.wait_for(lambda: fake.socket.refused >= 3)
        fake.socket.limit = 10
        await fake.wait_for(lambda: fake.socket.connected)
        await world.settle()
    told = [
        r.getMessage() for r in caplog.records if "10 Socket Mode connections" in r.getMessage()
    ]
    assert len(told) == 1, told
    assert "at most 10 processes with Slack" in told[0]
    nina = fake.add_user("nina", in_general=False)
    await fake.deliver_event(
        fake.team.id, {"type": "team_join", "user": nina.to_api(), "event_ts": "1.1"}
    )
    await world.settle()
    assert "Welcome, nina!" in [m.text for m in fake.dms_of(nina)]
