"""The Slack app manifest, generated from the registry so Slack and the code cannot drift."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.core.registry import Registry

BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "reactions:read",
    "team:read",
    "usergroups:read",
    "usergroups:write",
    "users:read",
)
"""What Steward's Port and bridge call: history for catch-up, groups for roles, im for DMs."""

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


def manifest(registry: Registry, config: Config, *, request_url: str = "") -> dict[str, Any]:
    """The app manifest: one slash command per feature, the scopes and the events it uses."""
    http = config.slack_mode == "http"
    url = request_url or "https://steward.example.org/slack/events"
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
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
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
            "description": "Welcomes, moderates, introduces, relays and measures your community.",
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
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": settings,
    }
