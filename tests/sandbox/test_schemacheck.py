"""The fakes' fast schema checks (``STEWARD_SANDBOX_VALIDATION=fast``, what benchmarks run) refuse
what the full ones refuse, with the same words, and a join storm through both fakes meets no
instance the compiled check would let through that ``jsonschema`` refuses."""

from __future__ import annotations

import pytest

from sandbox import schemacheck
from sandbox.discord import SpecValidator
from tests.sandbox.discord.conftest import require_spec
from tests.sandbox.slack.slack_support import require_validator


@pytest.mark.parametrize("mode", ["full", "fast", "both"])
def test_discord_refuses_the_same_in_every_mode(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(schemacheck.MODE_VARIABLE, mode)
    spec = require_spec()
    validator = SpecValidator(spec)
    op, params = spec.match("POST", "/channels/123/messages") or (None, None)
    assert op is not None and params is not None
    path = "/channels/123/messages"
    assert validator.check_request(op, path, params, {}, {"content": "hi"}, True) == []
    bad = validator.check_request(op, path, params, {}, {"content": 1}, True)
    assert [v.detail for v in bad] == ["at content: 1 is not of type 'string', 'null'"]
    embeds = {"content": "hi", "embeds": [{"title": 5}]}
    assert validator.check_request(op, path, params, {}, embeds, True)  # deep inside, too
    wrong = validator.check_response(op, path, 200, {"id": "1"})
    assert wrong and wrong[0].kind == "response-body"


@pytest.mark.parametrize("mode", ["full", "fast", "both"])
def test_slack_refuses_the_same_in_every_mode(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(schemacheck.MODE_VARIABLE, mode)
    slack = require_validator()
    assert slack.check_response("auth.test", {"ok": True})  # required fields missing
    assert slack.check_response("auth.test", {"ok": False, "error": "made_up"})
    bad_ts = {"ok": True, "channel": "C1", "ts": 5, "message": {}}
    assert any("ts" in p for p in slack.check_response("chat.postMessage", bad_ts))


async def test_a_join_storm_meets_no_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.onboarding_joinstorm import measure

    monkeypatch.setenv(schemacheck.MODE_VARIABLE, "both")
    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "50")  # as the benchmark runs
    monkeypatch.setattr(schemacheck, "disagreements", [])
    storms = await measure(12, databases=("sqlite",), slack_429=1)
    assert [(s.platform, s.exactly_once) for s in storms] == [("discord", 12), ("slack", 12)]
    assert schemacheck.disagreements == []
