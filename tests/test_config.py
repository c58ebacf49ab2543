"""Process configuration and the command line, as an operator meets them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.fuzz.common import PYTHON_WORDS
from bot.cli import main
from bot.config import Config, RedactSecrets


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    import os

    for key in list(os.environ):
        if key.startswith("STEWARD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_need_no_configuration() -> None:
    config = Config()
    assert config.database_url == "sqlite+aiosqlite:///steward.db"
    assert config.features == ["all"]
    assert not config.discord_enabled and not config.slack_enabled


def test_dotenv_file_is_read_and_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "STEWARD_DISCORD_TOKEN=from-dotenv\nSTEWARD_FEATURES=onboarding, engagement\n"
        "STEWARD_LOG_LEVEL=DEBUG\n"
    )
    monkeypatch.setenv("STEWARD_LOG_LEVEL", "WARNING")
    config = Config()
    assert config.discord_enabled
    assert config.features == ["onboarding", "engagement"]
    assert config.log_level == "WARNING"


def test_secrets_never_appear_in_reprs() -> None:
    config = Config(
        discord_token="dtoken-123456",
        slack_bot_token="xoxb-secret-1",
        slack_app_token="xapp-secret-2",
        slack_signing_secret="signsecret-3",
        database_url="postgresql://steward:dbpass-4@db/steward",
    )
    shown = repr(config) + str(config)
    for secret in ("dtoken-123456", "xoxb-secret-1", "xapp-secret-2", "signsecret-3", "dbpass-4"):
        assert secret not in shown


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    config = Config(discord_token="dtoken-abcdef")
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactSecrets(config.secrets()))
    try:
        with caplog.at_level(logging.INFO):
            logger.info("connecting with %s", "dtoken-abcdef")
            try:
                raise RuntimeError("bad token dtoken-abcdef")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert "dtoken-abcdef" not in text
    assert "connecting with [redacted]" in text and "bad token [redacted]" in text


def test_slack_needs_the_secret_of_its_mode(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    os.environ["STEWARD_SLACK_BOT_TOKEN"] = "xoxb-1"
    try:
        assert main(["run"]) == 2
        err = capsys.readouterr().err
        assert "STEWARD_SLACK_APP_TOKEN" in err and "xoxb-1" not in err
        os.environ["STEWARD_SLACK_MODE"] = "http"
        assert main(["doctor"]) == 2
        assert "STEWARD_SLACK_SIGNING_SECRET" in capsys.readouterr().err
    finally:
        os.environ.pop("STEWARD_SLACK_BOT_TOKEN", None)
        os.environ.pop("STEWARD_SLACK_MODE", None)


def test_run_without_platforms_sets_up_and_says_what_to_set(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "STEWARD_DISCORD_TOKEN" in out and "STEWARD_SLACK_BOT_TOKEN" in out
    assert "Steward sandbox: a fake Discord server and a fake Slack workspace" in out
    assert (clean_env / "steward.db").exists()
    assert (clean_env / "steward-sandbox.db").exists()


def test_migrate_and_doctor(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert "Database is up to date" in capsys.readouterr().out
    assert main(["doctor"]) == 1  # no platform configured yet
    out = capsys.readouterr().out
    assert "[ok] schema is up to date" in out
    assert "[!!] platforms: none configured" in out


def test_unknown_feature_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_FEATURES", "onboardin")
    assert main(["doctor"]) == 1
    assert "unknown features: onboardin" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("steward ")


def test_an_empty_value_means_unset(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        "STEWARD_DISCORD_DEV_GUILD_ID=\nSTEWARD_SLACK_HTTP_PORT=\nSTEWARD_DATABASE_URL=\n"
        "STEWARD_LOG_LEVEL=\nSTEWARD_DISCORD_TOKEN=\n"
    )
    config = Config()
    assert config.discord_dev_guild_id is None
    assert config.slack_http_port == 3000
    assert config.database_url == "sqlite+aiosqlite:///steward.db"
    assert config.log_level == "INFO"
    assert not config.discord_enabled


BAD_DATABASES = {
    "not-a-url": "is not a database URL",
    "mysql://u@localhost/db": "uses mysql, which Steward does not support",
    "postgresql://postgres@127.0.0.1:1/steward": "nothing accepts connections at 127.0.0.1:1",
    "sqlite:////no/such/folder/steward.db": "/no/such/folder, does not exist",
}


@pytest.mark.parametrize("url", list(BAD_DATABASES))
def test_a_bad_database_url_is_explained_not_traced(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    assert main(["migrate"]) == 2
    out, err = capsys.readouterr()
    assert BAD_DATABASES[url] in err and "Traceback" not in out + err
    assert main(["doctor"]) == 1
    out, err = capsys.readouterr()
    assert BAD_DATABASES[url] in out and "Traceback" not in out + err
    if not url.startswith("postgresql"):  # the URL itself is the problem
        assert "[ok] database" not in out
    assert "Error" not in out  # no bare exception names


def test_a_malformed_discord_token_stops_run_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_DISCORD_TOKEN", "abc")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "does not look like a Discord bot token" in err and "Reset Token" in err


def test_slack_manifest_in_http_mode_needs_the_request_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STEWARD_SLACK_MODE", "http")
    assert main(["slack-manifest"]) == 2
    assert "--request-url https://your.host/slack/events" in capsys.readouterr().err
    assert main(["slack-manifest", "--request-url", "notaurl"]) == 2
    assert "not a public https address" in capsys.readouterr().err
    assert main(["slack-manifest", "--request-url", "https://bot.example.net/slack/events"]) == 0
    assert "https://bot.example.net/slack/events" in capsys.readouterr().out


def test_the_feed_allow_list_and_minimum_interval_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.app import App
    from bot.builtin import Steward
    from bot.core.guard import BlockedDestination
    from cogs.announcements import Announcements

    monkeypatch.setenv("STEWARD_FEEDS_ALLOW", "10.0.0.0/8, 127.0.0.2/32")
    monkeypatch.setenv("STEWARD_FEEDS_MIN_INTERVAL", "300")
    feature = Announcements()
    App(Config(), features=[Steward(), feature])
    assert feature.schedule.minimum.total_seconds() == 300
    feature.fetcher.policy.check("10.1.2.3", 8000)  # allowed, on any port
    feature.fetcher.policy.check("127.0.0.2", 41234)
    with pytest.raises(BlockedDestination):
        feature.fetcher.policy.check("127.0.0.3", 80)
    with pytest.raises(BlockedDestination):
        feature.fetcher.policy.check("93.184.216.34", 22)  # public, but not a web port
    monkeypatch.setenv("STEWARD_FEEDS_ALLOW", "intranet")
    with pytest.raises(ValueError, match=r"not a network like 10\.0\.0\.0/8"):
        Config()


@pytest.mark.parametrize("value", ["²", "①", "9" * 30, "abc", "-5", "1e3", "5 fortnights"])
def test_a_feed_interval_that_is_no_number_of_seconds_is_told_in_words(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``²`` passes ``str.isdigit``, and ``int`` then raised its own words at the operator."""
    monkeypatch.setenv("STEWARD_FEEDS_MIN_INTERVAL", value)
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "STEWARD_FEEDS_MIN_INTERVAL:" in err
    assert "is not a number of seconds like 120" in err or "too long" in err, err
    for python in ("invalid literal", "Value error", "Input should be", "Traceback"):
        assert python not in err, err


@pytest.mark.parametrize(("value", "seconds"), [("300", 300), (" 90 ", 90), ("5m", 300)])
def test_a_feed_interval_is_seconds_or_a_duration(
    value: str, seconds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_FEEDS_MIN_INTERVAL", value)
    assert Config().feeds_min_interval.total_seconds() == seconds


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.text(st.characters(categories=("Nd", "No")), max_size=4))
def test_any_text_in_a_number_variable_is_a_value_or_a_refusal_in_words(text: str) -> None:
    """The variables Steward reads itself (not pydantic's plain ints): a value, or a
    ValidationError that names the variable without Python's own words."""
    for name in ("feeds_min_interval", "discord_shard_ids"):
        try:
            Config(**{name: text})
        except ValidationError as exc:
            (error,) = exc.errors()
            assert not any(w in error["msg"] for w in PYTHON_WORDS), (name, text, error["msg"])


@pytest.mark.parametrize("value", ["abc", "0", "-5", "²", "9" * 30])
def test_a_database_timeout_that_is_no_number_is_said_in_a_line_and_the_default_used(
    value: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo in a timeout variable must not stop Steward reaching its database with a
    traceback, nor (0) make every connection fail at once as if the database were away."""
    import bot.db.timeouts as engine

    monkeypatch.setattr(engine, "_SAID", set())
    monkeypatch.setenv("STEWARD_PG_COMMAND_TIMEOUT_MS", value)
    monkeypatch.setenv("STEWARD_PG_CONNECT_TIMEOUT_MS", "2500")
    with caplog.at_level("WARNING", logger="steward.db"):
        assert engine.pg_timeouts() == {
            "timeout": 2.5,
            "command_timeout": engine.PG_COMMAND_TIMEOUT_MS / 1000,
        }
        engine.pg_timeouts()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith("STEWARD_PG_COMMAND_TIMEOUT_MS="), said
    assert "\n" not in said[0] and not any(r.exc_info for r in caplog.records)
