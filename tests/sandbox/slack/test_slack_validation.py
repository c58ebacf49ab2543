"""The validator catches what breaks Slack's description; spec location and method recording."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import (
    FakeSlack,
    MethodLog,
    SpecsNotFound,
    SpecValidator,
    load_specs,
    missing_reason,
)
from sandbox.slack.payloads import event_callback
from tests.sandbox.slack.slack_support import require_validator


async def test_unknown_method_and_bad_parameters_are_violations(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("chat.postMessages", json={"channel": "general", "text": "typo"})
    with pytest.raises(SlackApiError):
        await client.api_call("chat.postMessage", json={"text": "no channel", "colour": "red"})
    with pytest.raises(SlackApiError, match="invalid_limit"):
        await client.api_call("users.list", params={"limit": "lots"})

    found = {(v.subject, v.message) for v in fake_slack.violations}
    assert (
        "chat.postMessages",
        "method 'chat.postMessages' does not exist in the Web API description",
    ) in found
    assert ("chat.postMessage", "unknown parameter 'colour'") in found
    assert ("chat.postMessage", "required parameter 'channel' is missing") in found
    assert ("users.list", "parameter 'limit' should be integer, got 'lots'") in found
    fake_slack.violations.clear()  # seen and expected: do not fail the test at teardown


async def test_missing_api_prefix_is_a_violation(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError):
        await client.auth_test()
    assert [v.message for v in fake_slack.violations] == [
        "called without the /api/ prefix: base_url must end in /api/"
    ]
    fake_slack.violations.clear()


def test_responses_are_checked_against_the_method_schema(slack_validator: SpecValidator) -> None:
    ok = {
        "ok": True,
        "url": "https://x.slack.test/",
        "team": "X",
        "user": "bot",
        "team_id": "T0AB",
        "user_id": "U0AB",
    }
    assert slack_validator.check_response("auth.test", ok) == []
    assert slack_validator.check_response("auth.test", {"ok": True})  # required fields missing
    assert slack_validator.check_response("auth.test", {"ok": False, "error": "made_up"})
    bad_ts = {
        "ok": True,
        "channel": "C012345678",
        "ts": "12",
        "message": {"type": "message", "text": "", "ts": "1"},
    }
    assert any("ts" in p for p in slack_validator.check_response("chat.postMessage", bad_ts))


def test_supplemented_methods_are_validated_too(slack_validator: SpecValidator) -> None:
    assert slack_validator.check_request(
        "files.getUploadURLExternal", {"filename": "a.png"}, frozenset()
    ) == ["required parameter 'length' is missing"]
    bad = {"ok": True, "upload_url": "ftp://x", "file_id": "F1"}
    assert len(slack_validator.check_response("files.getUploadURLExternal", bad)) == 2


async def test_delivered_events_are_checked_against_the_events_api(fake_slack: FakeSlack) -> None:
    validator = require_validator()
    good = event_callback(
        fake_slack.team, {"type": "team_join", "user": {}, "event_ts": "1.1"}, "Ev1"
    )
    assert validator.check_event(good) == []
    broken = dict(good)
    del broken["event_id"]
    broken["event"] = {"type": "reaction_added"}
    problems = validator.check_event(broken)
    assert "<root>: 'event_id' is a required property" in problems
    assert "event: 'event_ts' is a required property" in problems
    frame = {
        "envelope_id": "e1",
        "type": "events_api",
        "payload": good,
        "accepts_response_payload": 1,
    }
    assert validator.check_socket_envelope(frame) == [
        "accepts_response_payload: 1 is not of type 'boolean'"
    ]


def test_specs_absent_skip_or_fail_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_SHARED_DIR", str(tmp_path))
    assert "STEWARD_SHARED_DIR" in (missing_reason() or "")
    with pytest.raises(SpecsNotFound):
        load_specs()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_validator()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_validator()


def test_method_log_writes_sorted_unique_names(tmp_path: Path) -> None:
    log = MethodLog()
    for method in ("chat.postMessage", "auth.test", "chat.postMessage"):
        log.add(method)
    path = log.write(tmp_path / "artifacts" / "slack-methods.txt")
    assert path.read_text() == "auth.test\nchat.postMessage\n"
