"""Process configuration from the environment and ``.env``: tokens, database, features, logging.

Per-community choices (channels, roles, templates) are not here: managers set those with
``/steward settings``. A platform runs if and only if its credentials are set.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///steward.db"
_DURATION = re.compile(
    r"(?:(\d{1,6})\s*d)?\s*(?:(\d{1,6})\s*h)?\s*(?:(\d{1,6})\s*m)?\s*(?:(\d{1,9})\s*s)?",
    re.ASCII | re.IGNORECASE,
)
"""A duration in Steward's short form (``5m``, ``1h30m``, ``2d``); ASCII digits only."""


def _digits(text: str, most: int) -> int | None:
    """The number written in ASCII digits (``str.isdigit`` says yes to ``²``, which ``int``
    refuses in Python's words), at most ``most`` of them; None for anything else. Kept here,
    not taken from the core: the configuration sits below it."""
    if text.isascii() and text.isdigit() and len(text) <= most:
        return int(text)
    return None


class ConfigError(Exception):
    """The configuration is incomplete or contradicts itself; the text says what to set."""


class PlatformProblem(ConfigError):
    """A platform refused Steward or can't be reached at start; the text says what to do."""


class Config(BaseSettings):
    """Everything the process needs to start. Variables are ``STEWARD_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="STEWARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `NAME=` (as config.example.env has them) means unset, for every variable.
        env_ignore_empty=True,
        use_attribute_docstrings=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL: a SQLite file by default, or postgresql://user@host/db."""

    spill_dir: Path | None = None
    """Where Slack events acked while the database is away are journaled until it answers
    (one file per process); unset: next to the SQLite file (``steward.db.spill``), or
    ``steward-spill/<database>`` in the working directory for PostgreSQL. One directory per
    database: a journal's events go into the database of whichever process reads it."""

    features: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["all"])
    """Comma-separated features to run, `all`, or `none` (only Steward's own commands)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """How much to log."""

    discord_token: SecretStr | None = None
    """The Discord bot token; Discord runs when it is set."""

    discord_dev_guild_id: int | None = None
    """Sync slash commands to this one guild (instant) instead of globally."""

    discord_sharded: bool = False
    """Use discord.py's AutoShardedBot (for very large bots)."""

    # -- Outgrowing one process: Discord shards split between processes -------------------
    # (See README "Outgrowing one process". Slack needs nothing here: each process opens its
    # own Socket Mode connection and Slack spreads the events over them.)

    discord_shard_count: int | None = Field(default=None, ge=1)
    """How many shards the whole bot runs, the same in every process; unset: one shard, or
    Discord's recommendation with ``STEWARD_DISCORD_SHARDED``."""

    discord_shard_ids: Annotated[list[int] | None, NoDecode] = None
    """Comma-separated shards this process runs (`0,1`); unset: all of them. Each shard in
    exactly one process; the process keeps to its share of Discord's global request budget."""

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            numbers = [_digits(p.strip(), most=6) for p in value.split(",") if p.strip()]
            if None in numbers:
                raise ValueError(f"{value[:40]!r} is not a list of shard numbers like 0,1")
            return numbers
        return value

    @property
    def discord_shards(self) -> tuple[int, list[int]] | None:
        """The shard count and this process's shards, when the bot is split into shards."""
        if self.discord_shard_count is None:
            return None
        ids = self.discord_shard_ids
        return self.discord_shard_count, sorted(ids) if ids else list(
            range(self.discord_shard_count)
        )

    @property
    def discord_budget_share(self) -> float:
        """This process's part of Discord's global request budget: its shards over all."""
        shards = self.discord_shards
        return 1.0 if shards is None else len(shards[1]) / shards[0]

    # -- end of the sharding block -------------------------------------------------------

    discord_api_base: str = "https://discord.com/api/v10"
    """Discord's REST base URL (the sandbox points it at the local fake)."""

    discord_gateway_url: str = "wss://gateway.discord.gg/"
    """Discord's gateway URL (the sandbox points it at the local fake)."""

    slack_bot_token: SecretStr | None = None
    """The Slack bot token (xoxb-...); Slack runs when it is set with the mode's other secret."""

    slack_app_token: SecretStr | None = None
    """The Slack app-level token (xapp-...) for Socket Mode."""

    slack_signing_secret: SecretStr | None = None
    """The Slack signing secret; required in HTTP mode, checked on every request."""

    slack_mode: Literal["socket", "http"] = "socket"
    """How Slack reaches Steward: `socket` (no public URL needed) or `http`."""

    slack_http_port: int = 3000
    """The port of the HTTP endpoint in HTTP mode."""

    slack_api_base: str = "https://slack.com/api/"
    """Slack's Web API base URL (the sandbox points it at the local fake)."""

    platform_speed: float = Field(default=1.0, gt=0)
    """Only against the sandbox's fakes: their rate-limit windows run this many times faster
    (the fakes read the same variable), and Steward paces to match. Leave it at 1 otherwise."""
    http_port: int | None = None
    """Steward's own HTTP endpoint (inbound webhooks, WebSub) when Slack is not in HTTP mode;
    off unless set. In Slack's HTTP mode the endpoints share Slack's port."""

    http_host: str = "127.0.0.1"
    """The address Steward's own HTTP endpoint listens on (put a TLS proxy in front of it)."""

    metrics: bool = False
    """Serve ``/healthz`` and ``/metrics`` (Prometheus) on Steward's HTTP endpoint."""

    public_url: str | None = None
    """The public address that reaches Steward's HTTP endpoint, like https://steward.example.org;
    webhook and WebSub addresses are built from it (default: the local address)."""

    feeds_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated networks feeds may be fetched from although they are private (an
    intranet's 10.0.0.0/8); any port. Empty: the public internet only, on web ports."""

    feeds_min_interval: timedelta = timedelta(minutes=2)
    """The shortest interval a manager may set between two polls of a feed (seconds)."""

    @field_validator("feeds_allow", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("feeds_allow")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"STEWARD_FEEDS_ALLOW: {network!r} is not a network like 10.0.0.0/8"
                ) from None
        return value

    @field_validator("feeds_min_interval", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        # ASCII digits only: ``str.isdigit`` says yes to ``²``, which ``int`` then refused in
        # Python's words. Nine digits are 31 years.
        seconds = _digits(text, most=9)
        if seconds is not None:
            return timedelta(seconds=seconds)
        found = _DURATION.fullmatch(text) if len(text) <= 40 else None
        if found is None or not any(found.groups()):
            raise ValueError(
                f"{text[:40]!r} is not a number of seconds like 120 (or a duration like 5m)"
            )
        days, hours, minutes, secs = (int(g or 0) for g in found.groups())
        interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=secs)
        if interval > timedelta(days=366):
            raise ValueError(f"{text[:40]!r} is too long: at most a year")
        return interval

    @field_validator("features", mode="before")
    @classmethod
    def _split_features(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            return [] if parts == ["none"] else parts  # `none`: only Steward's own commands
        return value

    @property
    def spill_directory(self) -> Path:
        """``spill_dir``, or the default derived from the database URL."""
        if self.spill_dir is not None:
            return self.spill_dir
        try:
            url = make_url(self.database_url)
        except Exception:
            return Path("steward-spill")
        name = url.database or ""
        if url.get_backend_name() == "sqlite":
            if name and name != ":memory:" and not name.startswith("file:"):
                return Path(f"{name}.spill")
            return Path("steward-spill") / "memory"
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "default"
        return Path("steward-spill") / safe

    @property
    def discord_enabled(self) -> bool:
        """Whether Discord credentials are set."""
        return self.discord_token is not None and bool(self.discord_token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        """Whether a Slack bot token is set (the mode's other secret is checked by ``check``)."""
        return self.slack_bot_token is not None and bool(self.slack_bot_token.get_secret_value())

    def check(self) -> None:
        """Raise ConfigError naming what is missing for the platforms that were started."""
        if self.slack_enabled:
            if self.slack_mode == "socket" and not _set(self.slack_app_token):
                raise ConfigError(
                    "STEWARD_SLACK_BOT_TOKEN is set but Socket Mode also needs "
                    "STEWARD_SLACK_APP_TOKEN (an xapp-... app-level token), "
                    "or set STEWARD_SLACK_MODE=http."
                )
            if self.slack_mode == "http" and not _set(self.slack_signing_secret):
                raise ConfigError(
                    "Slack HTTP mode needs STEWARD_SLACK_SIGNING_SECRET to verify every request."
                )
        elif _set(self.slack_app_token) or _set(self.slack_signing_secret):
            raise ConfigError("Slack secrets are set but STEWARD_SLACK_BOT_TOKEN is missing.")
        self._check_shards()
        if (
            self.metrics
            and self.http_port is None
            and not (self.slack_enabled and self.slack_mode == "http")
        ):
            raise ConfigError(
                "STEWARD_METRICS needs an HTTP endpoint to serve /healthz and /metrics on: "
                "set STEWARD_HTTP_PORT."
            )
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise ConfigError("STEWARD_PUBLIC_URL is an address like https://steward.example.org.")

    def _check_shards(self) -> None:
        ids, count = self.discord_shard_ids, self.discord_shard_count
        if ids is None:
            return
        if count is None:
            raise ConfigError(
                "STEWARD_DISCORD_SHARD_IDS needs STEWARD_DISCORD_SHARD_COUNT, the number of "
                "shards of the whole bot (the same in every process)."
            )
        wrong = sorted({i for i in ids if not 0 <= i < count})
        if wrong:
            raise ConfigError(
                f"STEWARD_DISCORD_SHARD_IDS: shard {wrong[0]} does not exist; with "
                f"STEWARD_DISCORD_SHARD_COUNT={count} the shards are 0 to {count - 1}."
            )
        if not ids or len(set(ids)) != len(ids):
            raise ConfigError(
                "STEWARD_DISCORD_SHARD_IDS names each of this process's shards once, like 0,1."
            )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for key, value in super().__repr_args__():
            yield key, (safe_url(value) if key == "database_url" else value)

    def secrets(self) -> list[str]:
        """Every secret value, so logs can redact them."""
        found = []
        for value in (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
        ):
            if _set(value):
                assert value is not None
                found.append(value.get_secret_value())
        try:
            password = make_url(self.database_url).password
        except Exception:
            password = None
        if password:
            found.append(str(password))
        return found


def safe_url(url: str) -> str:
    """A database URL with its password masked, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def _set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


class RedactSecrets(logging.Filter):
    """Replaces secret values in every log record, whatever logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked."""
        if not self.secrets:
            return True
        message = record.getMessage()
        exc_text = record.exc_text
        if record.exc_info and not exc_text:
            exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
            if exc_text:
                exc_text = exc_text.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        if exc_text is not None:
            record.exc_text, record.exc_info = exc_text, None
        return True


def setup_logging(config: Config) -> None:
    """Log to stderr at the configured level, with secrets redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(config.secrets()))
    handler.set_name("steward")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "steward"]
    root.addHandler(handler)
    root.setLevel(config.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
