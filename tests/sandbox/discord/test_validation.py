"""The OpenAPI validator reports unknown routes and schema mismatches."""

from __future__ import annotations

import aiohttp

from sandbox.discord import FakeDiscord, SpecValidator
from tests.sandbox.discord.conftest import require_spec


def test_validator_flags_bad_requests_and_responses() -> None:
    spec = require_spec()
    validator = SpecValidator(spec)
    op, params = spec.match("POST", "/channels/123/messages") or (None, None)
    assert op is not None and op.operation_id == "create_message"
    assert (
        validator.check_request(op, "/channels/123/messages", params, {}, {"content": "hi"}, True)
        == []
    )
    bad = validator.check_request(
        op, "/channels/x/messages", {"channel_id": "x"}, {}, {"content": 1}, True
    )
    assert {v.kind for v in bad} == {"request-path", "request-body"}
    wrong = validator.check_response(op, "/channels/123/messages", 200, {"id": "1"})
    assert wrong and wrong[0].kind == "response-body"
    assert spec.match("GET", "/not/a/route") is None


async def test_fake_reports_unknown_route_and_bad_body() -> None:
    require_spec()
    async with FakeDiscord() as fake:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{fake.api_base}/no/such/route") as resp:
                assert resp.status == 404
            guild = fake.add_guild()
            url = f"{fake.api_base}/channels/{guild.channel_named('general').id}/messages"
            async with http.post(url, json={"content": 42}) as resp:
                assert resp.status == 400
                assert resp.headers["Content-Type"] == "application/json"
                assert (await resp.json())["code"] == 50035
            async with http.post(url, json={"content": "ok"}) as resp:
                assert resp.status == 200 and "X-RateLimit-Bucket" in resp.headers
    kinds = [v.kind for v in fake.violations]
    assert kinds == ["unknown-route", "request-body"]


def test_the_routes_the_fake_knows_without_the_spec_are_the_specs() -> None:
    from sandbox.discord.rest import ROUTES, builtin_spec

    spec = require_spec()
    own = builtin_spec()
    for op_id, where in ROUTES.items():
        method, template = where.split(" ", 1)
        official = spec.by_id[op_id]
        assert (official.method, official.template) == (method, template), op_id
        assert own.by_id[op_id].needs_bot_token == official.needs_bot_token, op_id
