"""What Slack's answers mean to Steward: refusals as Steward's errors (with the fix a manager can
make), user objects as member snapshots."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from bot.adapters.slack.shapes import obj, text
from bot.core.errors import NotFound, Unavailable, UserError
from bot.core.ids import CommunityRef, RoleRef, UserRef
from bot.core.members import Level, Member

_PASSING = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
NO_DM = {
    "cannot_dm_bot",
    "user_disabled",
    "messages_tab_disabled",
    "user_not_found",
    "user_not_visible",
}
_REFUSED = {
    "missing_scope",
    "not_allowed_token_type",
    "permission_denied",
    "paid_teams_only",
    "no_permission",
    "cant_delete_message",
    "restricted_action",
    "not_in_channel",
}


class MissingPermission(UserError):
    """Slack refused: a scope, a plan limit or a workspace policy."""


_FIXES = {
    "not_in_channel": (
        "I'm not a member of that channel. Add me to it first: type `/invite @Steward` in the "
        "channel (a private channel needs one of its members to do it)."
    ),
    "missing_scope": (
        "the app lacks a scope this needs. Run `steward doctor` to see which, add it (or "
        "recreate the app from `steward slack-manifest`) and reinstall the app."
    ),
    "restricted_action": (
        "the workspace's settings don't allow apps to do that. A workspace admin can change it "
        "under Settings & administration."
    ),
}
"""Slack refusals a manager can fix, with the fix in plain words."""


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` code of a refusal, or "" when the body was not JSON (a 503's HTML page)."""
    data = exc.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def refused(action: str, exc: SlackApiError) -> UserError | Unavailable:
    error = slack_error(exc)
    if exc.response.status_code >= 500 or error in _PASSING:
        return Unavailable(f"Slack answered {exc.response.status_code} ({error or 'no error'})")
    if error in _FIXES:
        return MissingPermission(f"Slack didn't let me {action}: {_FIXES[error]}")
    if error in _REFUSED:
        return MissingPermission(
            f"Slack didn't let me {action} ({error}). "
            "Check the app's scopes, or whether the workspace plan allows it."
        )
    if error in ("channel_not_found", "message_not_found", "user_not_found", "not_found"):
        return NotFound(f"I couldn't {action}: it no longer exists.")
    return UserError(f"Slack didn't let me {action} ({error or 'unknown error'}).")


def level_of(user: dict[str, Any]) -> Level:
    """Steward's level from a Slack user: owners, admins, everyone else."""
    if user.get("is_primary_owner") or user.get("is_owner"):
        return Level.OWNER
    if user.get("is_admin"):
        return Level.ADMIN
    return Level.MEMBER


def to_member(
    user: dict[str, Any], community: CommunityRef, groups: frozenset[str] = frozenset()
) -> Member:
    """A core Member snapshot of a Slack user object; ``groups`` are its user groups (roles)."""
    profile = obj(user.get("profile"))
    name = (
        text(profile.get("display_name"))
        or text(profile.get("real_name"))
        or text(user.get("name"))
        or "member"
    )
    return Member(
        ref=UserRef(community, str(user["id"])),
        display_name=str(name),
        level=level_of(user),
        is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
        roles=frozenset(RoleRef(community, group) for group in groups),
    )
