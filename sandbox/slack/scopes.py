"""Which granular bot scope each Web API method needs, as Slack documents it.

Sources: each method's page, docs.slack.dev/reference/methods/<method> ("Required scopes", the
bot token column). The 2021 OpenAPI file in ../shared lists the legacy scopes (chat:write:bot,
channels:write), which bot tokens no longer have, so the table is written from the method pages.
Where a method works on a conversation, the scope depends on its kind (public channel, private
channel, DM, group DM); Slack answers ``missing_scope`` with the one that kind needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# A scope per conversation kind: channel (public), group (private), im, mpim.
ByKind = Mapping[str, str]
_READ: ByKind = {
    "channel": "channels:read",
    "group": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
_HISTORY: ByKind = {
    "channel": "channels:history",
    "group": "groups:history",
    "im": "im:history",
    "mpim": "mpim:history",
}
# conversations.invite / .kick / .create: bot tokens use channels:manage for public channels
# (docs.slack.dev/reference/methods/conversations.invite), groups:write for private ones.
_MANAGE: ByKind = {
    "channel": "channels:manage",
    "group": "groups:write",
    "im": "im:write",
    "mpim": "mpim:write",
}
_LIST_TYPES = {"public_channel": "channel", "private_channel": "group", "im": "im", "mpim": "mpim"}

FIXED: dict[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": "connections:write",  # app-level token
    "bots.info": "users:read",
    "chat.delete": "chat:write",
    "chat.getPermalink": None,
    "chat.postEphemeral": "chat:write",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.join": "channels:join",
    "files.completeUploadExternal": "files:write",
    "files.getUploadURLExternal": "files:write",
    "files.upload": "files:write",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "team.info": "team:read",
    "usergroups.create": "usergroups:write",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "usergroups.users.update": "usergroups:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "views.open": None,
    "views.publish": None,
    "views.push": None,
    "views.update": None,
}
"""Methods whose scope does not depend on the conversation."""

BY_CONVERSATION: dict[str, ByKind] = {
    "conversations.history": _HISTORY,
    "conversations.replies": _HISTORY,
    "conversations.info": _READ,
    "conversations.members": _READ,
    "conversations.invite": _MANAGE,
    "conversations.kick": _MANAGE,
}
"""Methods whose scope follows the kind of the ``channel`` argument."""


def needed(method: str, args: Mapping[str, Any], kind_of: Callable[[str], str | None]) -> list[str]:
    """The scopes the call needs (every one must be granted); [] when none is documented.

    ``kind_of`` maps a conversation id to channel/group/im/mpim (None when unknown: the method
    then answers its own not-found error).
    """
    if method in FIXED:
        scope = FIXED[method]
        return [scope] if scope else []
    if method in BY_CONVERSATION:
        kind = kind_of(str(args.get("channel") or ""))
        return [BY_CONVERSATION[method][kind]] if kind else []
    if method in ("conversations.list", "users.conversations"):
        types = str(args.get("types") or "public_channel").split(",")
        return [_READ[_LIST_TYPES[t.strip()]] for t in types if t.strip() in _LIST_TYPES]
    if method == "conversations.open":
        users = [u for u in str(args.get("users") or "").split(",") if u.strip()]
        return ["mpim:write" if len(users) > 1 else "im:write"]
    if method == "conversations.create":
        return [
            _MANAGE["group" if str(args.get("is_private")).lower() in ("1", "true") else "channel"]
        ]
    return []


_KIND_OF_CHANNEL_TYPE = {"channel": "channel", "group": "group", "im": "im", "mpim": "mpim"}
EVENT_SCOPES: dict[str, str | ByKind | None] = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "member_joined_channel": _READ,
    "member_left_channel": _READ,
    "message": _HISTORY,
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "subteam_created": "usergroups:read",
    "subteam_members_changed": "usergroups:read",
    "subteam_updated": "usergroups:read",
    "team_join": "users:read",
    "user_change": "users:read",
}
"""The scope an app needs to be sent each event (docs.slack.dev/reference/events/<event>,
"Required scopes"); for message and membership events it follows the conversation's kind."""


def event_scope(event: Mapping[str, Any], kind_of: Callable[[str], str | None]) -> str | None:
    """The scope the app needs to receive this event; None when none is documented."""
    needed = EVENT_SCOPES.get(str(event.get("type")))
    if needed is None or isinstance(needed, str):
        return needed
    kind = _KIND_OF_CHANNEL_TYPE.get(str(event.get("channel_type")))
    kind = kind or kind_of(str(event.get("channel") or ""))
    return needed.get(kind) if kind else None
