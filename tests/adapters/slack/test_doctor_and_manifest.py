"""`steward doctor` against the fake Slack, and the app manifest generated from the registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.slack.app import LISTENED_EVENTS
from bot.adapters.slack.doctor import check_slack
from bot.adapters.slack.manifest import BOT_EVENTS, bot_scopes, manifest
from bot.builtin import Steward
from bot.config import Config, ConfigError
from bot.core.registry import Registry
from bot.features import load
from sandbox.slack import FakeSlack
from tests.adapters.desk import Desk
from tests.core.garden import Garden
from tests.sandbox.slack.slack_support import require_validator

REAL = Registry(load(["all"]))
"""The features Steward really ships, as `STEWARD_FEATURES=all` loads them."""

REAL_SCOPES = [
    "channels:history",  # message.channels; engagement's catch-up (conversations.history)
    "channels:manage",  # onboarding adds members to public channels (conversations.invite)
    "channels:read",  # member_joined_channel; engagement lists channels (conversations.list)
    "chat:write",
    "commands",
    "files:write",  # charts and the CSV export
    "groups:history",
    "groups:read",
    "groups:write",  # onboarding adds members to private channels (conversations.invite)
    "im:history",  # the outbox looks for a DM that may have gone out before sending it again
    "im:write",
    "mpim:history",  # the outbox looks for a group DM post that may have gone out
    "mpim:write",  # introductions opens group DMs (conversations.open with several users)
    "reactions:read",
    "usergroups:read",
    "usergroups:write",  # onboarding's roles are user groups (usergroups.users.update)
    "users:read",
]
"""Written out from each method's and event's page in Slack's reference."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A validated fake Slack, no Steward, the app installed with the real manifest's scopes."""
    async with FakeSlack(validate=require_validator()) as started:
        started.grant_bot_scopes(REAL_SCOPES)
        yield started
    assert started.violations == []


def _config(fake: FakeSlack, **overrides: Any) -> Config:
    settings: dict[str, Any] = {
        "slack_bot_token": fake.bot_token,
        "slack_app_token": fake.app_token,
        "slack_api_base": fake.api_url,
        **overrides,
    }
    return Config(_env_file=None, **settings)


async def test_doctor_is_happy_with_a_good_socket_mode_setup(fake: FakeSlack) -> None:
    checks = await check_slack(_config(fake), REAL)
    assert all(ok for ok, _ in checks), checks
    assert [text for _, text in checks] == [
        "bot token works: @steward in workspace Steward Test",
        "the app has every scope the enabled features use",
        "the app token opens Socket Mode connections",
    ]
    assert len(fake.calls_to("apps.connections.open")) == 1
    assert fake.socket.connects == 0  # asked for a URL, never connected


async def test_doctor_names_missing_scopes_in_plain_words(fake: FakeSlack) -> None:
    # An app made from an old manifest: it cannot add members to channels.
    old = [s for s in REAL_SCOPES if s not in ("channels:manage", "groups:write")]
    fake.grant_bot_scopes(old, steward_s=False)
    checks = await check_slack(_config(fake), REAL)
    [problem] = [text for ok, text in checks if not ok]
    assert problem == (
        "the app lacks 2 scopes: channels:manage (add members to public channels (interests, "
        "rules)); groups:write (add members to private channels it was added to (interests, "
        "rules)). Add them under OAuth & Permissions (or recreate the app from "
        "`steward slack-manifest`), then reinstall."
    )
    # With only the built-in feature enabled, nothing is missing.
    checks = await check_slack(_config(fake), Registry([Steward()]))
    assert all(ok for ok, _ in checks), checks


async def test_doctor_reports_a_bad_token_without_printing_it(fake: FakeSlack) -> None:
    fake.revoke(fake.bot_token)
    checks = await check_slack(_config(fake), REAL)
    assert checks == [(False, "Slack refused the bot token (token_revoked); copy it again.")]
    assert fake.bot_token not in repr(checks)


async def test_doctor_reports_an_app_token_that_cannot_open_socket_mode(fake: FakeSlack) -> None:
    checks = await check_slack(_config(fake, slack_app_token="xapp-1-A0-1-not-a-real-token"), REAL)
    ok, text = checks[-1]
    assert not ok and text.startswith("the app token cannot open Socket Mode (invalid_auth)")
    assert "xapp-1-A0" not in text


async def test_doctor_in_http_mode_checks_the_signing_secret(fake: FakeSlack) -> None:
    checks = await check_slack(
        _config(fake, slack_mode="http", slack_app_token=None, slack_signing_secret="s3cret"),
        REAL,
    )
    assert checks[-1] == (
        True,
        "HTTP mode: Slack must reach https://<your host>/slack/events "
        "(Steward listens on port 3000)",
    )
    assert not fake.calls_to("apps.connections.open")


REGISTRY = Registry([Steward(), Garden(), Desk()])


@pytest.mark.parametrize("mode", ["socket", "http"])
def test_manifest_has_a_slash_command_per_feature_and_every_event(mode: str) -> None:
    config = Config(_env_file=None, slack_mode=mode)
    url = "https://bot.example.org/slack/events" if mode == "http" else ""
    made = manifest(REGISTRY, config, request_url=url)
    commands = {c["command"]: c for c in made["features"]["slash_commands"]}
    assert set(commands) == {f"/{f.name}" for f in REGISTRY.features if REGISTRY.commands(f.name)}
    assert set(commands) == {"/steward", "/garden", "/desk"}
    assert all(c["should_escape"] for c in commands.values())
    assert "settings" in commands["/steward"]["usage_hint"]
    settings = made["settings"]
    subscribed = set(settings["event_subscriptions"]["bot_events"])
    for event in LISTENED_EVENTS:
        wanted = {"message.channels", "message.groups"} if event == "message" else {event}
        assert wanted <= subscribed, event
    assert subscribed <= set(BOT_EVENTS)
    assert made["oauth_config"]["scopes"]["bot"] == bot_scopes(REGISTRY)
    assert settings["socket_mode_enabled"] is (mode == "socket")
    assert settings["interactivity"]["is_enabled"]
    if mode == "http":
        url = "https://bot.example.org/slack/events"
        assert all(c["url"] == url for c in commands.values())
        assert settings["event_subscriptions"]["request_url"] == url
        assert settings["interactivity"]["request_url"] == url
    else:
        assert all("url" not in c for c in commands.values())
        assert "request_url" not in settings["event_subscriptions"]


def test_the_real_manifest_asks_for_exactly_what_steward_calls() -> None:
    made = manifest(REAL, Config(_env_file=None))
    assert made["oauth_config"]["scopes"]["bot"] == REAL_SCOPES
    talking = manifest(Registry([Steward()]), Config(_env_file=None))
    assert set(REAL_SCOPES) - set(talking["oauth_config"]["scopes"]["bot"]) == {
        "channels:manage",
        "groups:write",
        "mpim:history",
        "mpim:write",
        "usergroups:write",
    }


@pytest.mark.parametrize("url", ["", "notaurl", "http://bot.example.org/slack/events", "https://x"])
def test_http_mode_needs_a_real_https_request_url(url: str) -> None:
    config = Config(_env_file=None, slack_mode="http")
    with pytest.raises(ConfigError, match="https"):
        manifest(REGISTRY, config, request_url=url)


def test_a_request_url_in_socket_mode_is_refused_not_ignored() -> None:
    with pytest.raises(ConfigError, match="leave out --request-url notaurl"):
        manifest(REGISTRY, Config(_env_file=None), request_url="notaurl")


def test_group_dm_messages_are_subscribed_only_for_a_feature_that_opens_group_dms() -> None:
    config = Config(_env_file=None, slack_mode="socket")
    shipped = manifest(REAL, config)["settings"]["event_subscriptions"]["bot_events"]
    assert "message.mpim" in shipped  # introductions learns who talked in its group DMs
    assert set(shipped) - set(BOT_EVENTS) == {"message.mpim"}
    assert (
        "message.mpim"
        not in manifest(REGISTRY, config)["settings"]["event_subscriptions"]["bot_events"]
    )
