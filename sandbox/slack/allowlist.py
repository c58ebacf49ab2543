"""Where Slack's 2021 API description is wrong or incomplete, with the reason for each exception.

Every entry weakens validation, so each names what slack_sdk 3.48 / Slack really do. Keep it small.
"""

from __future__ import annotations

from typing import Any

# Parameters accepted on every method.
GLOBAL_PARAMS: dict[str, str] = {
    "team_id": (
        "slack_sdk adds the client's team_id to every call (Bolt builds a per-request client "
        "with the payload's team_id); Slack accepts it on all methods for org-wide apps; "
        "the 2021 spec lists it nowhere"
    ),
}

# Extra parameters per method that slack_sdk sends and Slack accepts, absent from the 2021 spec.
EXTRA_PARAMS: dict[str, dict[str, str]] = {
    "chat.postMessage": {
        "metadata": "message metadata (2022), sent by chat_postMessage(metadata=...)",
    },
    "chat.update": {
        "metadata": "message metadata (2022), sent by chat_update(metadata=...)",
    },
    "conversations.history": {
        "include_all_metadata": "message metadata (2022): return the messages' metadata",
    },
    "conversations.replies": {
        "include_all_metadata": "message metadata (2022): return the messages' metadata",
    },
}

# Parameter types the spec gets wrong against what Slack documents and slack_sdk sends.
PARAM_TYPE_OVERRIDES: dict[tuple[str, str], tuple[str, str]] = {}

# Parameters the spec marks required wrongly: (method, param) -> reason; presence is not checked.
NOT_REQUIRED: dict[tuple[str, str], str] = {}

_FILES_LIST = {"type": "string", "description": "JSON array of {id, title}"}

# Methods missing from the 2021 spec: parameters and responses written from Slack's current method
# reference (docs.slack.dev/reference/methods/<name>), in the same Swagger shape.
SUPPLEMENT_REASON: dict[str, str] = {
    "apps.connections.open": "Socket Mode (2020) is absent from the 2021 spec snapshot",
    "files.getUploadURLExternal": "the v2 upload flow (2023) post-dates the spec (files_upload_v2)",
    "files.completeUploadExternal": "the v2 upload flow (2023) post-dates the spec",
}

SUPPLEMENT_METHODS: dict[str, dict[str, Any]] = {
    "apps.connections.open": {
        "parameters": [{"in": "header", "name": "token", "type": "string", "required": True}],
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "url"],
            "properties": {
                "ok": {"enum": [True]},
                "url": {"type": "string", "pattern": "^wss?://"},
            },
        },
    },
    "files.getUploadURLExternal": {
        "parameters": [
            {"in": "header", "name": "token", "type": "string", "required": True},
            {"in": "query", "name": "filename", "type": "string", "required": True},
            {"in": "query", "name": "length", "type": "integer", "required": True},
            {"in": "query", "name": "alt_txt", "type": "string"},
            {"in": "query", "name": "snippet_type", "type": "string"},
        ],
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "upload_url", "file_id"],
            "properties": {
                "ok": {"enum": [True]},
                "upload_url": {"type": "string", "pattern": "^https?://"},
                "file_id": {"$ref": "#/definitions/defs_file_id"},
            },
        },
    },
    "files.completeUploadExternal": {
        "parameters": [
            {"in": "header", "name": "token", "type": "string", "required": True},
            {"in": "query", "name": "files", "required": True, **_FILES_LIST},
            {"in": "query", "name": "channel_id", "type": "string"},
            {"in": "query", "name": "channels", "type": "string"},
            {"in": "query", "name": "initial_comment", "type": "string"},
            {"in": "query", "name": "thread_ts", "type": "string"},
            {"in": "query", "name": "blocks", "type": "string"},
        ],
        "ok": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ok", "files"],
            "properties": {
                "ok": {"enum": [True]},
                "files": {"type": "array", "items": {"$ref": "#/definitions/objs_file"}},
            },
        },
    },
}

# Error codes Slack really returns that a method's enum in the spec lacks: (method or "*", code).
EXTRA_ERRORS: dict[tuple[str, str], str] = {
    ("*", "ratelimited"): "the HTTP 429 body; the spec spells it rate_limited in a few enums only",
    ("*", "token_revoked"): "any method with a revoked token; several enums omit it",
    ("*", "missing_scope"): (
        "the token lacks the method's scope (docs.slack.dev/authentication/tokens: every method "
        "answers it, with `needed` and `provided`); most enums omit it"
    ),
    (
        "*",
        "not_allowed_token_type",
    ): "an app-level (xapp-) token on a method that needs a bot token",
    (
        "chat.postMessage",
        "invalid_blocks",
    ): "malformed Block Kit (documented, absent from the enum)",
    ("chat.postEphemeral", "invalid_blocks"): "malformed Block Kit (documented, not in the enum)",
    ("chat.update", "invalid_blocks"): "malformed Block Kit (documented, absent from the enum)",
    (
        "chat.postEphemeral",
        "not_in_channel",
    ): "the bot is not in the channel (documented since 2021)",
    ("reactions.add", "channel_not_found"): "unknown or invisible channel (ids only, no names)",
    ("reactions.remove", "channel_not_found"): "unknown or invisible channel (ids only, no names)",
    ("users.list", "invalid_limit"): "a non-numeric limit",
    ("conversations.list", "invalid_limit"): "a non-numeric limit",
    ("conversations.list", "invalid_types"): "an unknown conversation type",
    ("team.info", "team_not_found"): "an unknown team id",
    ("files.upload", "no_file_data"): "neither file nor content",
    ("files.upload", "not_in_channel"): "sharing into a channel the bot is not in",
    ("files.upload", "channel_not_found"): "sharing into an unknown channel",
    ("usergroups.users.list", "no_such_subteam"): "an unknown user group",
    ("usergroups.users.update", "no_such_subteam"): "an unknown user group",
    ("usergroups.users.update", "user_not_found"): "an unknown user",
    ("usergroups.create", "name_taken"): "a taken name or handle",
}

# Fields an error body carries beside `error`, for the codes that have them: (code) -> fields.
ERROR_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "missing_scope": {
        "needed": {"type": "string", "minLength": 1},
        "provided": {"type": "string"},
    },
}

# Properties that real Slack objects carry and the spec's closed (additionalProperties: false)
# objects lack.
EXTRA_OBJECT_PROPERTIES: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
    "objs_message": {
        "app_id": (
            {"$ref": "#/definitions/defs_app_id"},
            "bot messages carry app_id (docs: message event)",
        ),
        "edited": ({"type": "object"}, "edited messages carry edited{user, ts}"),
        "metadata": ({"type": "object"}, "message metadata (2022)"),
    },
}

# Response schemas narrower than what Slack returns:
# (method, path in the 200 schema) -> (replacement subschema, reason).
RESPONSE_SCHEMA_PATCHES: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], str]] = {
    ("chat.update", ("properties", "message", "properties", "blocks")): (
        {"type": "array", "items": {"type": "object"}},
        "the spec types the updated message's blocks as an object; Slack answers the array of "
        "blocks the message now has, as every other message object carries them",
    ),
    ("conversations.replies", ("properties", "messages", "items")): (
        {"$ref": "#/definitions/objs_message"},
        "the spec's two closed thread-message variants omit blocks, bot_id, reactions and "
        "client_msg_id, which real replies carry; validated against objs_message instead",
    ),
    ("conversations.replies", ("properties", "response_metadata")): (
        {"$ref": "#/definitions/objs_response_metadata"},
        "Slack pages thread replies with response_metadata.next_cursor; the closed schema omits it",
    ),
    ("conversations.history", ("properties", "response_metadata")): (
        {"$ref": "#/definitions/objs_response_metadata"},
        "Slack pages history with response_metadata.next_cursor; the closed schema omits it",
    ),
    ("conversations.history", ("properties", "messages")): (
        {"type": "array", "items": {"$ref": "#/definitions/objs_message"}, "uniqueItems": True},
        "the spec says minItems 1, but a channel with no messages in the asked range (an empty "
        "channel, or nothing after `oldest`) answers ok with `messages: []` and has_more false; "
        "the same array otherwise",
    ),
}

# How inner events map to topics in slack_events_api_async_v1.json, and the known gaps.
EVENT_TOPIC_NOTES: dict[str, str] = {
    "message": (
        "the spec's 'message' topic schema was generated from one file-comment deletion sample "
        "(it requires deleted_ts, previous_message.comment, previous_message.file); every "
        "message event is validated against message.<channel_type> instead"
    ),
    "app_home_opened": "topic absent from the 2021 AsyncAPI file; checked with the generic wrapper",
}
