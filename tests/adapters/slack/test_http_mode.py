"""Steward's own HTTP endpoint (signed requests) through the real slack-bolt and the fake Slack."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable

import pytest

from sandbox.slack import FakeSlack, payloads
from sandbox.slack.server import ResponseTarget
from tests.adapters.slack.conftest import SlackWorld, StartWorld

Crafted = tuple[bytes, dict[str, str]]


@pytest.fixture
async def http_world(start_world: StartWorld) -> SlackWorld:
    """Steward serving /slack/events on loopback, the fake delivering signed requests there."""
    return await start_world(mode="http")


def _team_join_body(fake: FakeSlack, event_id: str = "Ev00000JOIN1") -> bytes:
    nina = fake.add_user("nina", in_general=False)
    envelope = payloads.event_callback(
        fake.team, {"type": "team_join", "user": nina.to_api(), "event_ts": "1.1"}, event_id
    )
    return json.dumps(envelope, separators=(",", ":")).encode()


def _json(fake: FakeSlack, body: bytes, **headers: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **headers}


def _signed(offset: int = 0) -> Callable[[FakeSlack, bytes], Crafted]:
    def case(fake: FakeSlack, body: bytes) -> Crafted:
        return body, fake.signed_headers(body, timestamp=int(time.time()) + offset)

    return case


def _reserialised(fake: FakeSlack, body: bytes) -> Crafted:
    pretty = json.dumps(json.loads(body), indent=2).encode()
    return pretty, fake.signed_headers(body)


def _header(name: str, value: str | None) -> Callable[[FakeSlack, bytes], Crafted]:
    def case(fake: FakeSlack, body: bytes) -> Crafted:
        headers = fake.signed_headers(body)
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
        return body, headers

    return case


def _not_utf8(fake: FakeSlack, body: bytes) -> Crafted:
    broken = body[:-1] + b"\xff}"
    return broken, fake.signed_headers(broken)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        pytest.param(_signed(), 200, id="valid"),
        pytest.param(_signed(-301), 401, id="stale-timestamp"),
        # A minute past Slack's five: a loaded machine may take seconds between signing and
        # checking, which brings a timestamp just past the window back into it (CI saw that).
        pytest.param(_signed(360), 401, id="future-timestamp"),
        pytest.param(_reserialised, 401, id="re-serialised-body"),
        pytest.param(_header("X-Slack-Signature", "v0=" + "0" * 64), 401, id="bad-signature"),
        pytest.param(_header("X-Slack-Signature", None), 401, id="missing-signature"),
        pytest.param(_header("X-Slack-Request-Timestamp", None), 401, id="missing-timestamp"),
        pytest.param(_header("X-Slack-Request-Timestamp", "12a4"), 401, id="non-numeric-ts"),
        pytest.param(_header("X-Slack-Request-Timestamp", "1.5e9"), 401, id="float-ts"),
        pytest.param(_header("X-Slack-Request-Timestamp", "\u00b9\u00b2"), 401, id="unicode-ts"),
        pytest.param(_header("X-Slack-Request-Timestamp", "9" * 40), 401, id="huge-ts"),
        pytest.param(_header("X-Slack-Signature", "v1=abc"), 401, id="malformed-signature"),
        pytest.param(_header("X-Slack-Signature", "v0=" + "é" * 64), 401, id="non-ascii-sig"),
        pytest.param(_not_utf8, 401, id="signed-non-utf8-body"),
    ],
)
async def test_signature_table(
    http_world: SlackWorld, case: Callable[[FakeSlack, bytes], Crafted], status: int
) -> None:
    fake = http_world.fake
    body, headers = case(fake, _team_join_body(fake))
    answer = await fake.send_raw(body, _json(fake, body, **headers))
    await http_world.settle()
    assert answer.status == status, answer.body
    nina = fake.world.user_by_name(fake.team.id, "nina")
    assert nina is not None
    assert len(fake.dms_of(nina)) == (2 if status == 200 else 0)


async def test_an_exact_replay_is_processed_once(http_world: SlackWorld) -> None:
    fake = http_world.fake
    body = _team_join_body(fake)
    headers = _json(fake, body, **fake.signed_headers(body))
    statuses = [(await fake.send_raw(body, headers)).status for _ in range(3)]
    await http_world.settle()
    assert statuses == [200, 200, 200]
    nina = fake.world.user_by_name(fake.team.id, "nina")
    assert nina is not None and len(fake.dms_of(nina)) == 2


async def test_a_replayed_slash_command_runs_once(http_world: SlackWorld) -> None:
    fake = http_world.fake
    general = fake.general()
    target = ResponseTarget(fake.team.id, general.id, http_world.alice.id)
    form = payloads.slash_form(
        fake.team,
        http_world.alice,
        general,
        "/desk",
        "echo once only",
        fake.new_response_url(target),
        fake.api.issue_trigger(http_world.alice.id, fake.team.id),
    )
    body = urllib.parse.urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **fake.signed_headers(body)}
    statuses = [(await fake.send_raw(body, headers)).status for _ in range(2)]
    await http_world.settle()
    assert statuses == [200, 200]
    assert [m.text for m in fake.messages_in(general)] == ["once only"]


async def test_slash_command_mentioning_payload_works(http_world: SlackWorld) -> None:
    fake = http_world.fake
    shown = await fake.slash(http_world.alice, "/desk", "echo show the payload")
    await http_world.settle()
    assert shown.status == 200 and shown.error is None
    assert [m.text for m in fake.messages_in("general")] == ["show the payload"]
    assert [e.text for e in fake.ephemerals_of(http_world.alice)] == ["Posted."]


async def test_buttons_and_forms_work_over_http(http_world: SlackWorld) -> None:
    fake = http_world.fake
    await fake.slash(http_world.alice, "/desk", "ask")
    await http_world.settle()
    [question] = fake.messages_in("general")
    picked = await fake.select(http_world.admin, question, "steward:desk:pick:", ["blue"])
    await http_world.settle()
    assert [s.text for s in picked.shown] == ["You picked blue"]
    await fake.slash(http_world.alice, "/desk", "feedback")
    await http_world.settle()
    modal = fake.modal_of(http_world.alice)
    assert modal is not None
    sent = await fake.submit_view(http_world.alice, modal, {"text": "payload & more"})
    await http_world.settle()
    assert sent.action == "close"
    assert [e.text for e in fake.ephemerals_of(http_world.alice)] == [
        "Thanks for: payload &amp; more"
    ]


async def test_webhooks_share_slacks_http_port(start_world: StartWorld) -> None:
    from bot.builtin import Steward
    from tests.cogs.announcements.conftest import CONFIG, announcements
    from tests.cogs.announcements.test_webhooks import (
        RELEASE_URL,
        github_headers,
        post,
        release,
        shown,
    )

    world = await start_world([Steward(), announcements()], mode="http", **CONFIG)
    fake, general = world.fake, world.fake.general()
    await fake.slash(world.admin, "/announcements", f"webhook create <#{general.id}|general>")
    await world.settle()
    [made] = fake.ephemerals_of(world.admin)
    url, secret = shown(made.text)
    assert url.startswith(f"http://127.0.0.1:{world.adapter.http_port}/announcements/hooks/")
    body = release("3.0")
    assert (await post(url, body, github_headers(body, secret, "d-1")))[0] == 202
    await world.settle()
    [posted] = fake.messages_in(general)
    assert posted.text == "brand/app v3.0 — Notes"  # what a notification shows
    linked = [b["text"]["text"] for b in posted.data["blocks"] if b["type"] == "section"]
    assert linked[0] == f"*<{RELEASE_URL}3.0|brand/app v3.0>*"
