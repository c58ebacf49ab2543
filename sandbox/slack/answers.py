"""What an app sends back outside the Web API: acks and response_url posts, checked like the rest.

Slack publishes no schema for these; the ones below are written from its documentation:
- response_url posts and slash command acks: docs.slack.dev/interactivity/handling-user-interaction
  ("Message responses": text, blocks, attachments, thread_ts, response_type ephemeral or
  in_channel, replace_original, delete_original) and the fields slack_sdk's WebhookClient.send
  documents (unfurl_links, unfurl_media, metadata, mrkdwn);
- Socket Mode acks: docs.slack.dev/apis/events-api/using-socket-mode ("Acknowledging events":
  ``{"envelope_id": ..., "payload": {...}}``, the payload only where the envelope said
  ``accepts_response_payload``);
- view_submission answers: docs.slack.dev/surfaces/modals ("response_action": errors, update,
  push or clear; errors maps block_id to a message; update and push carry a view).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft7Validator

from . import blockkit

_MESSAGE_FIELDS: dict[str, Any] = {
    "text": {"type": "string", "maxLength": 40000},
    "blocks": {"type": "array"},
    "attachments": {"type": "array"},
    "thread_ts": {"type": "string", "pattern": r"^\d+\.\d+$"},
    "response_type": {"enum": ["ephemeral", "in_channel"]},
    "unfurl_links": {"type": "boolean"},
    "unfurl_media": {"type": "boolean"},
    "mrkdwn": {"type": "boolean"},
    "metadata": {"type": "object"},
}

RESPONSE_URL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_MESSAGE_FIELDS,
        "replace_original": {"type": "boolean"},
        "delete_original": {"type": "boolean"},
    },
    "additionalProperties": False,
    "anyOf": [
        {"required": ["text"]},
        {"required": ["blocks"]},
        {"required": ["attachments"]},
        {"required": ["delete_original"]},
    ],
}

SLASH_ACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": _MESSAGE_FIELDS,
    "additionalProperties": False,
}

VIEW_ACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["response_action"],
    "properties": {
        "response_action": {"enum": ["errors", "update", "push", "clear"]},
        "errors": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string", "minLength": 1},
        },
        "view": {"type": "object"},
    },
    "additionalProperties": False,
    "allOf": [
        {
            "if": {"properties": {"response_action": {"const": "errors"}}},
            "then": {"required": ["errors"]},
        },
        {
            "if": {"properties": {"response_action": {"enum": ["update", "push"]}}},
            "then": {"required": ["view"]},
        },
    ],
}

SOCKET_ACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["envelope_id"],
    "properties": {"envelope_id": {"type": "string", "minLength": 1}, "payload": {}},
    "additionalProperties": False,
}

_VALIDATORS = {
    name: Draft7Validator(schema)
    for name, schema in (
        ("response_url", RESPONSE_URL_SCHEMA),
        ("slash", SLASH_ACK_SCHEMA),
        ("view_submission", VIEW_ACK_SCHEMA),
        ("socket", SOCKET_ACK_SCHEMA),
    )
}


def _schema(name: str, body: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:200]}"
        for e in _VALIDATORS[name].iter_errors(body)
    ]


def check_response_url(body: Any) -> list[str]:
    """Problems with a response_url post: its documented fields, then its Block Kit."""
    problems = _schema("response_url", body)
    if isinstance(body, dict):
        problems += blockkit.check_blocks(body.get("blocks"), "message")
    return problems


def check_ack(kind: str, payload: dict[str, Any], body: dict[str, Any] | None) -> list[str]:
    """Problems with what an app answered a delivery with (``body``: as Slack reads it)."""
    if body is None:
        return []
    if kind == "slash":
        return _schema("slash", body) + blockkit.check_blocks(body.get("blocks"), "message")
    if kind == "interactive" and payload.get("type") == "view_submission":
        problems = _schema("view_submission", body)
        if isinstance(body.get("view"), dict):
            problems += blockkit.check_view(body["view"])
        return problems
    if kind == "interactive" and payload.get("type") == "block_suggestion":
        return []  # an options list: not something Steward sends
    what = " ".join(w for w in (kind, str(payload.get("type") or "")) if w)
    return [f"{what}: Slack reads no answer body here"]


def check_socket_ack(frame: Any, accepts_payload: bool) -> list[str]:
    """Problems with a Socket Mode acknowledgement frame."""
    problems = _schema("socket", frame)
    if isinstance(frame, dict) and frame.get("payload") and not accepts_payload:
        problems.append("payload: this envelope does not accept a response payload")
    return problems
