"""What Discord must grant for the loaded features: permissions, intents, the invite URL, checks.

The rules that derive permissions from the features (kept simple on purpose, and shown to the
person running ``steward doctor`` or ``steward discord-invite``):

* every Steward bot talks: View Channels, Send Messages, Send Messages in Threads, Embed Links,
  Attach Files, Read Message History, Add Reactions, Create Public Threads;
* beyond that, each Port call a feature declares (``Feature.port_calls``) asks for what it
  needs: ``add_role``/``remove_role`` Manage Roles, ``timeout`` Timeout Members, ``kick`` Kick
  Members, ``ban`` Ban Members, ``delete_message`` Manage Messages, ``open_group`` Create Private
  Threads. A moderator-only command
  (a report, say) needs nothing extra by itself;
* a feature listening for moderation done in Discord's own client (``ModeratedInClient``) asks
  for View Audit Log, which says who banned, kicked or timed out whom and why.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import discord
import discord.http

from bot.adapters.discord.endpoints import configure_endpoints
from bot.adapters.discord.intents import intents_for
from bot.config import Config, ConfigError
from bot.core.events import ModeratedInClient
from bot.core.registry import Registry

INVITE_BASE = "https://discord.com/oauth2/authorize"

BASE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    create_public_threads=True,
)
"""What every Steward bot needs to talk in channels and threads."""

PERMISSION_FOR_CALL = {
    "add_role": "manage_roles",
    "remove_role": "manage_roles",
    "timeout": "moderate_members",
    "kick": "kick_members",
    "ban": "ban_members",
    "unban": "ban_members",
    "delete_message": "manage_messages",
    "open_group": "create_private_threads",
    "purge": "manage_messages",
}
"""The permission each Port call beyond talking needs (discord.Permissions attribute names)."""

PERMISSION_WORDS = {
    "view_channel": "View Channels",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
    "add_reactions": "Add Reactions",
    "create_public_threads": "Create Public Threads",
    "manage_roles": "Manage Roles",
    "moderate_members": "Timeout Members",
    "kick_members": "Kick Members",
    "ban_members": "Ban Members",
    "manage_messages": "Manage Messages",
    "create_private_threads": "Create Private Threads",
    "view_audit_log": "View Audit Log",
}
"""Permission attributes in the words Discord's server settings use."""

# Application flags (GET /applications/@me): the full flag once verified, _LIMITED before.
_MEMBERS_FLAGS = (1 << 14) | (1 << 15)  # GATEWAY_GUILD_MEMBERS(_LIMITED)
_CONTENT_FLAGS = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT(_LIMITED)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    ok: bool
    text: str


def needed_permissions(registry: Registry) -> discord.Permissions:
    """The guild permissions the loaded features need (the rules are in the module docstring)."""
    perms = discord.Permissions(BASE_PERMISSIONS.value)
    calls = {call for feature in registry.features for call in feature.port_calls}
    for call, permission in PERMISSION_FOR_CALL.items():
        if call in calls:
            setattr(perms, permission, True)
    if registry.listeners(ModeratedInClient):
        perms.view_audit_log = True
    return perms


def permission_names(perms: discord.Permissions) -> list[str]:
    """The permissions that are set, in Discord's words."""
    return [words for attr, words in PERMISSION_WORDS.items() if getattr(perms, attr)]


def missing_permissions(needed: discord.Permissions, have: discord.Permissions) -> list[str]:
    """What ``have`` lacks of ``needed``, in Discord's words (Administrator lacks nothing)."""
    if have.administrator:
        return []
    return permission_names(discord.Permissions(needed.value & ~have.value))


def needed_intents(registry: Registry) -> dict[str, str]:
    """The privileged intents the features need, each with the reason in plain words."""
    intents = intents_for(registry)
    needed: dict[str, str] = {}
    if intents.members:
        needed["Server Members Intent"] = "features react to members joining, leaving or changing"
    if intents.message_content:
        needed["Message Content Intent"] = "features read what members write"
    return needed


def missing_intents(needed: Iterable[str], application_flags: int) -> list[str]:
    """The needed privileged intents the application has not switched on."""
    enabled = {
        "Server Members Intent": bool(application_flags & _MEMBERS_FLAGS),
        "Message Content Intent": bool(application_flags & _CONTENT_FLAGS),
    }
    return [name for name in needed if not enabled.get(name, False)]


TOKEN_SHAPE = (
    "STEWARD_DISCORD_TOKEN does not look like a Discord bot token (three parts separated by "
    "dots, the first being the bot's id in base64). Copy it again from the Developer Portal "
    "(Bot → Reset Token)"
)


def _token_bot_id(token: str) -> int | None:
    """The bot's id from a token's first part, or None when the token is not in that form."""
    first = token.strip().split(".", 1)[0]
    try:
        padded = first + "=" * (-len(first) % 4)
        decoded = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if "." in token and decoded.isdigit() else None


def token_problem(token: str) -> str | None:
    """Why a token can't be a Discord bot token, or None."""
    return None if _token_bot_id(token) is not None else TOKEN_SHAPE + "."


def client_id_from_token(token: str) -> int:
    """The bot's user id, which a token's first dot-separated segment holds in base64.

    For every application made since 2020 the bot's user id is also the application's client id.
    """
    bot_id = _token_bot_id(token)
    if bot_id is None:
        raise ConfigError(
            TOKEN_SHAPE + ", or pass --client-id (the Application ID on the General "
            "Information page)."
        )
    return bot_id


def invite_url(client_id: int, permissions: discord.Permissions) -> str:
    """The OAuth2 URL that adds the bot, with its slash commands, and exactly these permissions."""
    query = urlencode(
        {
            "client_id": str(client_id),
            "scope": "bot applications.commands",
            "permissions": str(permissions.value),
        },
        safe="",
    ).replace("%20", "+")
    return f"{INVITE_BASE}?{query}"


async def run_checks(config: Config, registry: Registry) -> list[Check]:
    """Log in with the token and compare what Discord grants with what the features need."""
    assert config.discord_token is not None
    shape = token_problem(config.discord_token.get_secret_value())
    if shape is not None:
        return [Check(False, shape)]
    configure_endpoints(config.discord_api_base, config.discord_gateway_url)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    checks: list[Check] = []
    try:
        try:
            me = await http.static_login(config.discord_token.get_secret_value())
        except discord.LoginFailure:
            return [Check(False, "token rejected by Discord: copy it again from the Bot page")]
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            return [Check(False, unreachable(config, exc))]
        checks.append(Check(True, f"token works: logged in as {me['username']} ({me['id']})"))
        app: dict[str, Any] = dict(await http.application_info())
        checks.extend(_intent_checks(registry, int(app.get("flags") or 0)))
        checks.extend(await _guild_checks(http, registry))
    except discord.HTTPException as exc:
        checks.append(Check(False, f"Discord refused a check ({exc.status}): {exc.text[:120]}"))
    finally:
        await http.close()
    return checks


def _intent_checks(registry: Registry, flags: int) -> list[Check]:
    needed = needed_intents(registry)
    if not needed:
        return [Check(True, "privileged intents: none needed by the enabled features")]
    missing = set(missing_intents(needed, flags))
    return [
        Check(
            name not in missing,
            f"{name}: {'on' if name not in missing else 'OFF'}: needed because {why}"
            + ("" if name not in missing else "; switch it on in Developer Portal → Bot"),
        )
        for name, why in needed.items()
    ]


async def _guild_checks(http: discord.http.HTTPClient, registry: Registry) -> list[Check]:
    needed = needed_permissions(registry)
    guilds: list[Any] = []
    after: int | None = None
    while True:
        page = await http.get_guilds(200, after=after, with_counts=False)
        guilds.extend(page)
        if len(page) < 200:
            break
        after = int(page[-1]["id"])
    if not guilds:
        return [Check(False, "servers: none yet; invite the bot with `steward discord-invite`")]
    checks = []
    for guild in guilds:
        have = discord.Permissions(int(guild.get("permissions") or 0))
        missing = missing_permissions(needed, have)
        name = f"server {guild['name']} ({guild['id']})"
        if missing:
            checks.append(
                Check(
                    False,
                    f"{name}: Steward's role lacks {', '.join(missing)}; grant them in Server "
                    "Settings → Roles, or re-invite with the URL from `steward discord-invite`",
                )
            )
        else:
            checks.append(Check(True, f"{name}: every permission the features need"))
    return checks


def unreachable(config: Config, exc: BaseException) -> str:
    """Why Discord could not be reached, in plain words."""
    host = urlsplit(config.discord_api_base).hostname or config.discord_api_base
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status} at {host}: try again in a minute"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot reach Discord: {host} was not found (is this machine online?)"
    return f"cannot reach Discord at {host}: check this machine's network and firewall"
