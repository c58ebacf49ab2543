"""What Slack sends an app: event_callback wrappers, slash command forms, interactivity."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .state import APP_ID, Channel, StoredMessage, Team, User, View

VERIFICATION_TOKEN = "fake-verification-token"


def event_callback(team: Team, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The Events API wrapper around one inner event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team.id,
        "enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team.id,
                "user_id": team.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        # Deprecated and truncated to one element by Slack, still required by the wrapper schema.
        "authed_users": [team.bot_user_id],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def slash_form(
    team: Team,
    user: User,
    channel: Channel,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command (every value a string)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team.id,
        "team_domain": team.domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _user_ref(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def _base(team: Team, user: User, kind: str, trigger_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": _user_ref(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": {"id": team.id, "domain": team.domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_payload(view: View) -> dict[str, Any]:
    """A view as interactivity payloads carry it."""
    return dict(view.data)


def block_actions(
    team: Team,
    user: User,
    action: dict[str, Any],
    trigger_id: str,
    *,
    channel: Channel | None = None,
    message: StoredMessage | None = None,
    message_ts: str | None = None,
    is_ephemeral: bool = False,
    view: View | None = None,
    response_url: str | None = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload from a message (with response_url) or from a view (without)."""
    payload = _base(team, user, "block_actions", trigger_id)
    payload["actions"] = [action]
    payload["state"] = {"values": state or {}}
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.id}
        payload["view"] = view_payload(view)
        return payload
    if channel is None or message_ts is None:
        raise ValueError("a click outside a view needs its channel and message")
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel.id,
        "is_ephemeral": is_ephemeral,
    }
    payload["channel"] = {"id": channel.id, "name": channel.name}
    if message is not None:  # ephemeral sources are not echoed back
        payload["message"] = dict(message.data)
    if response_url:
        payload["response_url"] = response_url
    return payload


def view_submission(team: Team, user: User, view: View, trigger_id: str) -> dict[str, Any]:
    """A view_submission payload."""
    payload = _base(team, user, "view_submission", trigger_id)
    payload["view"] = view_payload(view)
    payload["response_urls"] = []
    return payload


def view_closed(team: Team, user: User, view: View) -> dict[str, Any]:
    """A view_closed payload (sent only when the view asked for notify_on_close)."""
    payload = _base(team, user, "view_closed", "")
    del payload["trigger_id"]
    payload["view"] = view_payload(view)
    payload["is_cleared"] = False
    return payload


def shortcut(team: Team, user: User, callback_id: str, trigger_id: str) -> dict[str, Any]:
    """A global shortcut payload."""
    payload = _base(team, user, "shortcut", trigger_id)
    payload.update(callback_id=callback_id, action_ts=f"{time.time():.6f}")
    return payload


def message_action(
    team: Team,
    user: User,
    channel: Channel,
    message: StoredMessage,
    callback_id: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A message shortcut payload."""
    payload = _base(team, user, "message_action", trigger_id)
    payload.update(
        callback_id=callback_id,
        action_ts=f"{time.time():.6f}",
        message_ts=message.ts,
        channel={"id": channel.id, "name": channel.name},
        message=dict(message.data),
        response_url=response_url,
    )
    return payload


def input_state(view: View, values: dict[str, Any]) -> dict[str, Any]:
    """state.values for a view from {action_id: value}, shaped after each input element's type."""
    out: dict[str, Any] = {}
    for block in view.data.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        action_id = element.get("action_id", "")
        block_id = block.get("block_id", "")
        if action_id not in values:
            continue
        out.setdefault(block_id, {})[action_id] = element_value(element, values[action_id])
    unknown = set(values) - {a for b in out.values() for a in b}
    if unknown:
        raise KeyError(f"no input element with action_id {sorted(unknown)} in view {view.id}")
    return out


def element_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The state entry Slack reports for one input element and the chosen value."""
    kind = str(element.get("type", "plain_text_input"))
    if kind in {"static_select", "external_select", "radio_buttons"}:
        return {"type": kind, "selected_option": _option(element, value)}
    if kind in {"multi_static_select", "checkboxes"}:
        return {"type": kind, "selected_options": [_option(element, v) for v in value]}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(value)}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "channels_select":
        return {"type": kind, "selected_channel": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    return {"type": kind, "value": value}


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in element.get("options", []):
        if option.get("value") == value:
            return dict(option)
    return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}


def find_element(blocks: Any, action_id: str) -> tuple[str, dict[str, Any]] | None:
    """(block_id, element) for an interactive element with this action_id."""
    for block in blocks or []:
        candidates = list(block.get("elements", []))
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None
