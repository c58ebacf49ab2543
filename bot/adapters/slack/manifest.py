"""The Slack app manifest, generated from the registry so Slack and the code cannot drift."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.config import Config, ConfigError
from bot.core.message import component_id
from bot.core.registry import Registry

BOT_EVENTS = (
    "app_home_opened",
    "member_joined_channel",
    "member_left_channel",
    "message.channels",
    "message.groups",
    "reaction_added",
    "reaction_removed",
    "subteam_members_changed",
    "subteam_updated",
    "team_join",
    "user_change",
)


# Scopes are granular bot scopes, each from the method's or event's page in Slack's reference
# (docs.slack.dev/reference/methods/<method>, .../events/<event>): "Required scopes".
CORE_SCOPES = {
    "chat:write": "chat.postMessage, chat.postEphemeral, chat.delete: every answer and post",
    "commands": "one slash command per feature",
    "files:write": "files.getUploadURLExternal and files.completeUploadExternal: attachments",
    "im:write": "conversations.open: direct messages",
    "im:history": (
        "conversations.history in a DM: before re-sending a delivery that may have gone out, "
        "Steward looks for it (message metadata) instead of posting it twice"
    ),
    "users:read": "users.info: who a member is and whether they are an admin",
    "usergroups:read": "usergroups.list, usergroups.users.list: roles and the moderator group",
}
"""What Steward itself calls whatever features run (auth.test and views.* need no scope)."""

EVENT_SCOPES = {
    "app_home_opened": (),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.mpim": ("mpim:history",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "subteam_members_changed": ("usergroups:read",),
    "subteam_updated": ("usergroups:read",),
    "team_join": ("users:read",),
    "user_change": ("users:read",),
}
"""The scope each subscribed event needs (public and private channels alike)."""

PORT_CALL_SCOPES: dict[str, tuple[str, ...]] = {
    "add_role": ("usergroups:write",),  # usergroups.users.update
    "remove_role": ("usergroups:write",),
    # conversations.invite: channels:manage for public channels, groups:write for private ones.
    "add_to_channel": ("channels:manage", "groups:write"),
    "channels": ("channels:read", "groups:read"),  # conversations.list
    "channel_names": ("channels:read", "groups:read"),  # conversations.list
    "history": ("channels:history", "groups:history"),  # conversations.history, .replies
    "count_members": ("users:read",),  # users.list
    # conversations.members, and users.list to leave bots out.
    "channel_members": ("channels:read", "groups:read", "users:read"),
    "delete_message": ("chat:write",),  # chat.delete
    # conversations.open with several users; conversations.history before re-sending there.
    "open_group": ("mpim:write", "mpim:history"),
    # conversations.kick: channels:manage for public channels, groups:write for private ones.
    "remove_from_channel": ("channels:manage", "groups:write"),
}
"""The scopes behind each Port call a feature declares (``Feature.port_calls``)."""


GROUP_DM_EVENTS = ("message.mpim",)
"""Messages in the group DMs Steward opened (``open_group``): subscribed only when a feature
opens them (introductions learns who talked there)."""


def bot_events(registry: Registry) -> list[str]:
    """The events Steward subscribes to for these features."""
    calls = {call for feature in registry.features for call in feature.port_calls}
    return [*BOT_EVENTS, *(GROUP_DM_EVENTS if "open_group" in calls else ())]


def bot_scopes(registry: Registry) -> list[str]:
    """Exactly the scopes Steward calls for these features, sorted."""
    scopes = set(CORE_SCOPES)
    for event in bot_events(registry):
        scopes.update(EVENT_SCOPES[event])
    for feature in registry.features:
        for call in feature.port_calls:
            scopes.update(PORT_CALL_SCOPES.get(call, ()))
    return sorted(scopes)


def shortcuts(registry: Registry) -> list[dict[str, str]]:
    """One message shortcut per ``@message_action``, its callback id a component id."""
    return [
        {
            "name": mark.menu or mark.action,
            "type": "message",
            "callback_id": component_id(feature, mark.action),
            "description": (mark.menu or mark.action)[:150],
        }
        for feature, mark in registry.message_actions()
    ]


def request_url_problem(url: str) -> str | None:
    """Why Slack could not use this request URL (HTTP mode), or None."""
    if not url:
        return (
            "HTTP mode needs the public address Slack sends requests to: "
            "steward slack-manifest --request-url https://your.host/slack/events"
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        return (
            f"--request-url {url} is not a public https address; Slack only calls https URLs, "
            "like https://your.host/slack/events"
        )
    return None


def manifest(registry: Registry, config: Config, *, request_url: str = "") -> dict[str, Any]:
    """The app manifest: one slash command per feature, the scopes and the events it uses.

    In HTTP mode ``request_url`` must be a public https URL (``request_url_problem`` says why
    not); Socket Mode needs none."""
    http = config.slack_mode == "http"
    problem = request_url_problem(request_url) if http else None
    if not http and request_url:
        problem = (
            f"--request-url is for HTTP mode (STEWARD_SLACK_MODE=http); in Socket Mode, the "
            f"mode set now, Slack needs no public address: leave out --request-url {request_url}"
        )
    if problem is not None:
        raise ConfigError(problem)
    url = request_url
    commands: list[dict[str, Any]] = []
    for feature in registry.features:
        specs = registry.commands(feature.name)
        if not specs:
            continue
        words = sorted({spec.words[0] for spec in specs})
        command: dict[str, Any] = {
            "command": f"/{feature.name}",
            "description": (feature.description or feature.name)[:100],
            "usage_hint": " | ".join(words)[:100],
            "should_escape": True,
        }
        if http:
            command["url"] = url
        commands.append(command)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": bot_events(registry)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": not http,
        "token_rotation_enabled": False,
    }
    if http:
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"]["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Steward",
            "description": "Welcomes newcomers and shows community managers how members talk.",
            "background_color": "#2f4f6f",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Steward", "always_online": True},
            "slash_commands": commands,
            **({"shortcuts": found} if (found := shortcuts(registry)) else {}),
        },
        "oauth_config": {"scopes": {"bot": bot_scopes(registry)}},
        "settings": settings,
    }
