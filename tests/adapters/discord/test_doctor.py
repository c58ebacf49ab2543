"""`steward doctor` and `steward discord-invite`: what features need against what Discord grants."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest

from bot import cli
from bot.adapters.discord.doctor import (
    client_id_from_token,
    invite_url,
    missing_intents,
    missing_permissions,
    needed_intents,
    needed_permissions,
    permission_names,
    run_checks,
)
from bot.adapters.discord.endpoints import reset_endpoints
from bot.builtin import Steward
from bot.config import Config, ConfigError
from bot.core import Feature
from bot.core.registry import Registry
from bot.features import load
from sandbox.discord import FakeDiscord, Intent, Permission
from tests.adapters.desk import Desk
from tests.adapters.discord.conftest import require_spec

BOT_ID = 1234567890123456789
TOKEN = base64.b64encode(str(BOT_ID).encode()).decode().rstrip("=") + ".GhIjKl.secret-part"


def _registry(*extra: object) -> Registry:
    return Registry([Steward(), *extra])  # type: ignore[list-item]


REAL = Registry(load(["all"]))
"""The features Steward really ships, as `STEWARD_FEATURES=all` loads them."""

TALKING = [
    "View Channels",
    "Send Messages",
    "Send Messages in Threads",
    "Embed Links",
    "Attach Files",
    "Read Message History",
    "Add Reactions",
    "Create Public Threads",
]
# Written out by hand from Discord's permission bits: the eight above (1024, 2048, 1 << 38,
# 16384, 32768, 65536, 64, 1 << 35), Manage Roles (1 << 28), and moderation's Timeout, Kick
# and Ban Members and Manage Messages (1 << 40, 2, 4, 8192), and View Audit Log (128: who did
# what in Discord's own client).
REAL_PERMISSIONS = 309506198592 | 1 << 40 | 2 | 4 | 8192 | 1 << 36 | 128
MODERATION = ["Timeout Members", "Kick Members", "Ban Members", "Manage Messages"]


class Warden(Feature, name="warden"):
    """A feature that acts on members and messages."""

    port_calls = frozenset({"timeout", "kick", "ban", "delete_message"})


# -- pure rules ------------------------------------------------------------------------------


def test_a_talking_bot_needs_only_the_base_permissions() -> None:
    assert permission_names(needed_permissions(_registry())) == TALKING


def test_the_real_features_ask_for_manage_roles_and_the_moderation_rights() -> None:
    assert {f.name for f in REAL.features} >= {"steward", "onboarding", "engagement"}
    needed = needed_permissions(REAL)
    # Onboarding hands out roles; moderation times out, kicks and bans; introductions opens
    # private threads; engagement's moderator-only report acts on nobody.
    assert permission_names(needed) == [
        *TALKING,
        "Manage Roles",
        *MODERATION,
        "Create Private Threads",
        "View Audit Log",
    ]
    assert needed.value == REAL_PERMISSIONS


def test_acting_on_members_asks_for_exactly_those_powers() -> None:
    both = permission_names(needed_permissions(_registry(Warden())))
    assert both == [
        *TALKING,
        "Timeout Members",
        "Kick Members",
        "Ban Members",
        "Manage Messages",
    ]


def test_missing_permissions_are_named_in_discords_words() -> None:
    needed = needed_permissions(REAL)
    have = discord.Permissions(view_channel=True, send_messages=True)
    missing = missing_permissions(needed, have)
    assert "Manage Roles" in missing and "Send Messages in Threads" in missing
    assert "Send Messages" not in missing
    assert missing_permissions(needed, discord.Permissions(administrator=True)) == []


def test_privileged_intents_follow_the_listeners() -> None:
    assert needed_intents(_registry()) == {}
    needed = needed_intents(_registry(Desk()))
    assert list(needed) == ["Server Members Intent"]
    assert missing_intents(needed, 0) == ["Server Members Intent"]
    assert missing_intents(needed, 1 << 15) == []  # GATEWAY_GUILD_MEMBERS_LIMITED
    assert missing_intents(needed, 1 << 14) == []  # GATEWAY_GUILD_MEMBERS


def test_the_client_id_comes_from_the_tokens_first_segment() -> None:
    assert client_id_from_token(TOKEN) == BOT_ID
    for bad in ("fake-bot-token", "not base64!.x.y", base64.b64encode(b"abc").decode() + ".x.y"):
        with pytest.raises(ConfigError, match="does not look like a Discord bot token"):
            client_id_from_token(bad)


def test_the_invite_url_asks_for_exactly_the_needed_permissions() -> None:
    assert invite_url(BOT_ID, needed_permissions(REAL)) == (
        f"https://discord.com/oauth2/authorize?client_id={BOT_ID}"
        f"&scope=bot+applications.commands&permissions={REAL_PERMISSIONS}"
    )


@pytest.fixture
def root_logging() -> Iterator[None]:
    """``cli.main`` installs a stderr handler on the root logger; take it away afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_discord_invite_prints_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STEWARD_FEATURES", "all")
    monkeypatch.setenv("STEWARD_DISCORD_TOKEN", TOKEN)
    assert cli.main(["discord-invite"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == (
        f"https://discord.com/oauth2/authorize?client_id={BOT_ID}"
        f"&scope=bot+applications.commands&permissions={REAL_PERMISSIONS}"
    )
    assert err.strip() == "Permissions asked for: " + ", ".join(
        [*TALKING, "Manage Roles", *MODERATION, "Create Private Threads", "View Audit Log"]
    )
    monkeypatch.setenv("STEWARD_DISCORD_TOKEN", "malformed")
    assert cli.main(["discord-invite"]) == 2
    assert "--client-id" in capsys.readouterr().err
    assert cli.main(["discord-invite", "--client-id", "42"]) == 0
    assert "client_id=42&" in capsys.readouterr().out


# -- against the fake ------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    require_spec()
    async with FakeDiscord(privileged_intents=Intent.MESSAGE_CONTENT) as fake:
        yield fake
    reset_endpoints()
    assert fake.violations == [], "\n".join(str(v) for v in fake.violations)


def _config(fake: FakeDiscord, token: str | None = None, **kw: str) -> Config:
    return Config(
        _env_file=None,
        features=[],  # only the built-in feature, whatever cogs exist
        discord_token=token or fake.token,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        **kw,  # type: ignore[arg-type]
    )


async def test_doctor_names_what_each_server_and_the_application_lack(fake: FakeDiscord) -> None:
    fake.add_guild("Complete")
    fake.add_guild("Bare", bot_permissions=int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES))
    checks = await run_checks(_config(fake), REAL)
    by_text = {c.text: c.ok for c in checks}
    assert by_text[f"token works: logged in as Steward ({fake.bot.id})"]
    [intent] = [c for c in checks if c.text.startswith("Server Members Intent")]
    assert not intent.ok and "OFF" in intent.text and "members joining" in intent.text
    [complete] = [c for c in checks if "server Complete" in c.text]
    assert complete.ok
    [bare] = [c for c in checks if "server Bare" in c.text]
    # @everyone's defaults cover talking; what features do to members and threads is missing.
    assert not bare.ok and (
        "lacks Manage Roles, Timeout Members, Kick Members, Ban Members, Manage Messages, "
        "Create Private Threads, View Audit Log;" in bare.text
    )
    assert "steward discord-invite" in bare.text
    used = {r.operation_id for r in fake.requests}
    assert {"get_my_user", "get_my_oauth2_application", "list_my_guilds"} <= used


async def test_doctor_reports_a_rejected_token(fake: FakeDiscord) -> None:
    checks = await run_checks(_config(fake, token=TOKEN), _registry())
    assert [(c.ok, c.text) for c in checks] == [
        (False, "token rejected by Discord: copy it again from the Bot page")
    ]


async def test_doctor_flags_a_malformed_token_without_asking_discord(fake: FakeDiscord) -> None:
    checks = await run_checks(_config(fake, token="abc"), _registry())
    assert [c.ok for c in checks] == [False]
    assert "does not look like a Discord bot token" in checks[0].text
    assert fake.requests == []


async def test_steward_doctor_prints_the_discord_section(
    fake: FakeDiscord, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_guild("Garden Club")
    code = await cli._doctor(_config(fake, database_url=database_url))
    out = capsys.readouterr().out
    assert "Discord\n" in out and "[ok] token works" in out
    assert "[ok] server Garden Club" in out
    assert "privileged intents: none needed" in out
    assert code == 0, out
