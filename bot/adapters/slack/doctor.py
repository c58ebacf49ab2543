"""``steward doctor`` for Slack: the bot token, the scopes it was granted, and the mode's secret.

Nothing here connects for real: Socket Mode is checked by asking for a connection URL
(``apps.connections.open``) without opening it. Tokens are never printed.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack._answers import slack_error
from bot.adapters.slack.manifest import bot_scopes
from bot.config import Config
from bot.core.message import plural
from bot.core.registry import Registry

SCOPE_WORDS = {
    "channels:history": "read messages in public channels",
    "channels:manage": "add members to public channels (interests, rules)",
    "channels:read": "see public channels",
    "chat:write": "post messages",
    "commands": "receive slash commands",
    "files:write": "upload files",
    "groups:history": "read messages in private channels it was added to",
    "groups:read": "see private channels it was added to",
    "groups:write": "add members to private channels it was added to (interests, rules)",
    "im:history": "look for a direct message it may have sent already, so it never sends it twice",
    "im:write": "send direct messages",
    "mpim:history": "look for a group DM message it may have sent already (introductions)",
    "mpim:write": "open group DMs for the groups introductions forms",
    "reactions:read": "see reactions",
    "usergroups:read": "see user groups (Steward's roles on Slack)",
    "usergroups:write": "add and remove members of user groups",
    "users:read": "see members and whether they are admins",
}
"""What each scope lets Steward do, in the words shown to the person running doctor."""

Check = tuple[bool, str]


def _error(exc: SlackApiError) -> str:
    return str(slack_error(exc) or f"HTTP {exc.response.status_code}")


async def check_slack(config: Config, registry: Registry) -> list[Check]:
    """Check the Slack side of a configuration against what the enabled features call; one
    (ok, sentence) per finding."""
    if config.slack_bot_token is None or not config.slack_bot_token.get_secret_value():
        return [(False, "STEWARD_SLACK_BOT_TOKEN is not set (an xoxb-... bot token).")]
    checks: list[Check] = []
    token = config.slack_bot_token.get_secret_value()
    if not token.startswith("xoxb-"):
        checks.append((False, "STEWARD_SLACK_BOT_TOKEN should be a bot token (xoxb-...)."))
    client = AsyncWebClient(token=token, base_url=config.slack_api_base)
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        checks.append((False, f"Slack refused the bot token ({_error(exc)}); copy it again."))
        return checks
    except Exception as exc:
        checks.append(
            (False, f"cannot reach Slack at {config.slack_api_base}: {_network_words(exc)}")
        )
        return checks
    checks.append(
        (True, f"bot token works: @{identity.get('user')} in workspace {identity.get('team')}")
    )
    granted = {s.strip() for s in str(identity.headers.get("x-oauth-scopes", "")).split(",")}
    missing = [scope for scope in bot_scopes(registry) if scope not in granted]
    if missing:
        words = "; ".join(f"{scope} ({SCOPE_WORDS.get(scope, scope)})" for scope in missing)
        checks.append(
            (
                False,
                f"the app lacks {plural(len(missing), 'scope')}: {words}. Add them under OAuth & "
                "Permissions (or recreate the app from `steward slack-manifest`), then reinstall.",
            )
        )
    else:
        checks.append((True, "the app has every scope the enabled features use"))
    if config.slack_mode == "socket":
        checks.append(await _check_socket(config))
    else:
        secret = config.slack_signing_secret
        if secret is None or not secret.get_secret_value():
            checks.append((False, "HTTP mode needs STEWARD_SLACK_SIGNING_SECRET."))
        else:
            checks.append(
                (
                    True,
                    f"HTTP mode: Slack must reach https://<your host>/slack/events "
                    f"(Steward listens on port {config.slack_http_port})",
                )
            )
    return checks


async def _check_socket(config: Config) -> Check:
    app_token = config.slack_app_token
    if app_token is None or not app_token.get_secret_value():
        return (False, "Socket Mode needs STEWARD_SLACK_APP_TOKEN (an xapp-... app-level token).")
    client = AsyncWebClient(base_url=config.slack_api_base)
    try:
        opened = await client.apps_connections_open(app_token=app_token.get_secret_value())
    except SlackApiError as exc:
        hint = (
            "; give the app-level token the connections:write scope"
            if _error(exc) in ("missing_scope", "not_allowed_token_type", "invalid_auth")
            else ""
        )
        return (False, f"the app token cannot open Socket Mode ({_error(exc)}){hint}.")
    except Exception as exc:
        return (False, f"cannot reach Slack for Socket Mode: {_network_words(exc)}")
    if not opened.get("url"):
        return (False, "Slack gave no Socket Mode URL; is Socket Mode enabled for the app?")
    return (True, "the app token opens Socket Mode connections")


def _network_words(exc: Exception) -> str:
    """What went wrong reaching Slack, in plain words rather than an exception's name."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host was not found (is this machine online?)"
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError):
        return "check this machine's network and firewall"
    return "an unexpected answer; try again in a minute"
