"""The dispatcher: permissions, private errors, error ids, isolated listeners."""

from __future__ import annotations

import logging

import pytest

from bot.builtin import Steward
from bot.core import Level, MemberJoined, UserRef
from tests.core.garden import Garden
from tests.core.harness import Harness


@pytest.fixture
async def garden(database_url: str) -> Harness:
    async with Harness(database_url, [Steward(), Garden()]) as harness:
        yield harness  # type: ignore[misc]


async def test_member_running_admin_command_is_refused_privately_and_nothing_changes(
    garden: Harness,
) -> None:
    member = garden.member("mallory")
    admin = garden.member("ada", Level.ADMIN)
    replies = await garden.run(
        member, "steward settings set", feature="garden", key="greeting", value="pwned"
    )
    assert len(replies) == 1
    assert replies[0].ephemeral
    assert "need to be an admin" in replies[0].text
    shown = await garden.run(admin, "steward settings show", feature="garden", key="greeting")
    assert "Welcome to the garden (default)" in shown[0].text


async def test_moderator_command_needs_a_moderator(garden: Harness) -> None:
    target = garden.member("bob")
    refused = await garden.run(garden.member("eve"), "garden prune", member=target)
    assert refused[0].ephemeral and "need to be a moderator" in refused[0].text
    allowed = await garden.run(garden.member("mo", Level.MOD), "garden prune", member=target)
    assert allowed[0].text == "pruned bob"


async def test_user_error_reaches_only_the_invoker(garden: Harness) -> None:
    replies = await garden.run(garden.member("alice"), "garden oops")
    assert [(r.text, r.ephemeral) for r in replies] == [("Pick a seed first.", True)]
    assert garden.port.sent == []


async def test_unexpected_error_shows_an_error_id_and_no_exception_text(
    garden: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        replies = await garden.run(garden.member("alice"), "garden boom")
    assert len(replies) == 1 and replies[0].ephemeral
    text = replies[0].text
    assert "Something went wrong" in text
    assert "hunter2" not in text and "RuntimeError" not in text and "garden.py" not in text
    error_id = text.split("error `")[1].split("`")[0]
    assert len(error_id) == 6
    assert any(error_id in record.getMessage() for record in caplog.records)
    assert garden.app.dispatcher.failures == 1


async def test_missing_argument_gets_usage_line(garden: Harness) -> None:
    replies = await garden.run(garden.member("alice"), "garden plant")
    assert replies[0].ephemeral
    assert "Missing seed" in replies[0].text and "/garden plant <seed>" in replies[0].text


async def test_one_failing_listener_does_not_stop_another(garden: Harness) -> None:
    newcomer = garden.member("nina")
    await garden.app.dispatcher.publish(
        MemberJoined(community=garden.community, at=garden.clock.now(), member=newcomer)
    )
    assert [(s.where, s.message.text) for s in garden.port.sent] == [
        (newcomer.ref, "Welcome to the garden")
    ]
    assert garden.app.dispatcher.failures == 1


async def test_switched_off_feature_refuses_commands_and_skips_listeners(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    off = await garden.run(admin, "steward features", feature="garden", switch=False)
    assert "garden is now off" in off[0].text
    refused = await garden.run(garden.member("alice"), "garden plant", seed="rose")
    assert refused[0].ephemeral and "switched off" in refused[0].text
    await garden.app.dispatcher.publish(
        MemberJoined(
            community=garden.community,
            at=garden.clock.now(),
            member=garden.member("nina"),
        )
    )
    assert garden.port.sent == []
    on = await garden.run(admin, "steward features", feature="garden", switch=True)
    assert "garden is now on" in on[0].text
    planted = await garden.run(garden.member("alice"), "garden plant", seed="rose")
    assert planted[0].text == "Welcome to the garden: planted rose"


async def test_settings_apply_per_community(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    await garden.run(admin, "steward settings set", feature="garden", key="greeting", value="Hi")
    other = garden.community.__class__("slack", "T1")
    slack_port = garden.port.__class__("slack")
    garden.app.dispatcher.add_port(slack_port)
    sam = UserRef(other, "U1")
    await garden.app.dispatcher.publish(
        MemberJoined(
            community=other,
            at=garden.clock.now(),
            member=garden.member("sam").__class__(sam, "sam"),
        )
    )
    # The Slack newcomer is greeted with the Slack community's (default) greeting, never with
    # the Discord community's stored one; nothing reaches the Discord recorder.
    greeted = [(sent.where, sent.message.text) for sent in slack_port.sent]
    assert greeted == [(sam, "Welcome to the garden")]
    assert garden.port.sent == []
    mine = await garden.run(garden.member("alice"), "garden plant", seed="fern")
    assert mine[0].text == "Hi: planted fern"


async def test_an_answer_is_sent_only_once_the_work_is_committed(garden: Harness) -> None:
    replies = await garden.run(garden.member("alice"), "garden half")
    assert len(replies) == 1
    assert "Saved!" not in replies[0].text
    assert replies[0].text.startswith("Something went wrong")
