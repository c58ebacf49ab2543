"""Check Web API calls, the fake's answers and events against Slack's descriptions."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft4Validator, Draft7Validator

from sandbox.schemacheck import Checked, checked

from . import allowlist
from .specs import SlackSpecs

_INT = re.compile(r"^-?\d+$")
_NUM = re.compile(r"^-?\d+(\.\d+)?$")
_BOOLS = {"true", "false", "1", "0"}

# Socket Mode frames have no official schema; this one is Steward's, written from Slack's Socket
# Mode docs.
SOCKET_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["envelope_id", "type", "payload", "accepts_response_payload"],
    "properties": {
        "envelope_id": {"type": "string", "minLength": 1},
        "type": {"enum": ["events_api", "slash_commands", "interactive"]},
        "payload": {"type": "object"},
        "accepts_response_payload": {"type": "boolean"},
        "retry_attempt": {"type": "integer", "minimum": 0},
        "retry_reason": {"type": "string"},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One mismatch between what crossed the wire and Slack's description of it."""

    kind: str  # "request" | "response" | "event" | "envelope"
    subject: str  # the Web API method or the event type
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"


def _tuple_items_to_any_of(node: Any) -> Any:
    """Turn the spec's `items: [A, B]` on non-arrays (ignored by JSON Schema) into anyOf."""
    if isinstance(node, dict):
        out = {k: _tuple_items_to_any_of(v) for k, v in node.items()}
        items = out.get("items")
        if isinstance(items, list) and out.get("type") != "array":
            del out["items"]
            out["anyOf"] = items
        return out
    if isinstance(node, list):
        return [_tuple_items_to_any_of(v) for v in node]
    return node


def _patched_definitions(web: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = _tuple_items_to_any_of(copy.deepcopy(web["definitions"]))
    for name, extra in allowlist.EXTRA_OBJECT_PROPERTIES.items():
        target = defs[name]
        for branch in target.get("anyOf", [target]):
            branch.setdefault("properties", {}).update({k: v[0] for k, v in extra.items()})
    return defs


def _allow_extra_errors(method: str, schema: dict[str, Any]) -> dict[str, Any]:
    error = schema.get("properties", {}).get("error")
    if isinstance(error, dict) and "enum" in error:
        extra = {code for (name, code) in allowlist.EXTRA_ERRORS if name in ("*", method)}
        error["enum"] = sorted(set(error["enum"]) | extra)
    if isinstance(error, dict) and schema.get("additionalProperties") is False:
        for fields in allowlist.ERROR_FIELDS.values():
            schema["properties"].update(fields)
    return schema


def _patch_response(method: str, schema: dict[str, Any]) -> None:
    for (name, path), (replacement, _reason) in allowlist.RESPONSE_SCHEMA_PATCHES.items():
        if name != method:
            continue
        node = schema
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = replacement


def _type_ok(expected: str, value: Any, from_json: bool) -> bool:
    if from_json:
        if expected == "boolean":
            return isinstance(value, bool)
        if expected == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if expected == "number":
            ok_str = isinstance(value, str) and bool(_NUM.match(value))
            return ok_str or (isinstance(value, int | float) and not isinstance(value, bool))
        # A JSON body may carry structured values where the form encoding needs a JSON string.
        return isinstance(value, str | dict | list)
    if not isinstance(value, str):
        return expected == "string"  # multipart file parts
    if expected == "boolean":
        return value.lower() in _BOOLS
    if expected == "integer":
        return bool(_INT.match(value))
    if expected == "number":
        return bool(_NUM.match(value))
    return True


class SpecValidator:
    """Validates against the Web API and Events API descriptions, minus the allowlist."""

    def __init__(self, specs: SlackSpecs) -> None:
        self._specs = specs
        self._defs = _patched_definitions(specs.web)
        self._ops: dict[str, dict[str, Any]] = {}
        for path, verbs in specs.web["paths"].items():
            for op in verbs.values():
                self._ops[path.lstrip("/")] = op
        self._cache: dict[tuple[str, str], Checked | None] = {}
        self._wrapper = _draft7(specs.wrapper)
        self._socket = _draft7(SOCKET_ENVELOPE_SCHEMA)
        self._topics: dict[str, Checked] = {}

    # ------------------------------------------------------------------ Web API
    def knows(self, method: str) -> bool:
        """Whether the method exists in the spec or in the documented supplement."""
        return method in self._ops or method in allowlist.SUPPLEMENT_METHODS

    def _parameters(self, method: str) -> list[dict[str, Any]]:
        if method in self._ops:
            params: list[dict[str, Any]] = self._ops[method].get("parameters", [])
            return params
        return list(allowlist.SUPPLEMENT_METHODS[method]["parameters"])

    def reads_json(self, method: str) -> bool:
        """Whether Slack reads a JSON body for this method (its description's ``consumes``)."""
        consumes = self._ops.get(method, {}).get("consumes", ["application/json"])
        return "application/json" in consumes

    def check_transport(
        self, method: str, verb: str, content_type: str, json_keys: frozenset[str]
    ) -> list[str]:
        """Problems with how a call travelled: verb, body encoding, where the token went.

        Slack takes GET or POST on every method, a form (or multipart) body on all of them, and
        a JSON body only where the method's description lists application/json in ``consumes``
        (docs.slack.dev/apis/web-api: "JSON-encoded bodies"; elsewhere the JSON is not read, so
        the arguments are missing). A JSON body must carry the token in the Authorization
        header, never in the body.
        """
        if not self.knows(method):
            return []
        problems = []
        if verb not in ("GET", "POST"):
            problems.append(f"HTTP {verb}: Slack's Web API takes GET or POST")
        if content_type == "application/json":
            if not self.reads_json(method):
                problems.append("sent as JSON, which this method does not read: send a form")
            if "token" in json_keys:
                problems.append("token in a JSON body: send it as an Authorization header")
        elif content_type and content_type not in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            problems.append(f"Content-Type {content_type!r}: send a form or JSON")
        return problems

    def check_request(
        self, method: str, args: Mapping[str, Any], json_keys: frozenset[str]
    ) -> list[str]:
        """Problems with a call's arguments: unknown method or parameter, missing, wrong type."""
        if not self.knows(method):
            return [f"method {method!r} does not exist in the Web API description"]
        problems: list[str] = []
        declared = {p["name"]: p for p in self._parameters(method) if p["name"] != "token"}
        extras = allowlist.EXTRA_PARAMS.get(method, {})
        for name, value in args.items():
            if name == "token":
                continue
            spec = declared.get(name)
            if spec is None:
                if name not in allowlist.GLOBAL_PARAMS and name not in extras:
                    problems.append(f"unknown parameter {name!r}")
                continue
            expected = spec.get("type", "string")
            override = allowlist.PARAM_TYPE_OVERRIDES.get((method, name))
            if override is not None:
                expected = override[0]
            if not _type_ok(expected, value, name in json_keys):
                problems.append(f"parameter {name!r} should be {expected}, got {value!r:.80}")
        for name, spec in declared.items():
            required = spec.get("required") and (method, name) not in allowlist.NOT_REQUIRED
            if required and name not in args:
                problems.append(f"required parameter {name!r} is missing")
        return problems

    def _response_validator(self, method: str, outcome: str) -> Checked | None:
        key = (method, outcome)
        if key not in self._cache:
            schema: dict[str, Any] | None
            if method in allowlist.SUPPLEMENT_METHODS:
                sup = allowlist.SUPPLEMENT_METHODS[method]
                schema = copy.deepcopy(sup.get(outcome)) if outcome in sup else None
            else:
                responses = self._ops[method].get("responses", {})
                raw = responses.get("200" if outcome == "ok" else "default", {}).get("schema")
                schema = _tuple_items_to_any_of(copy.deepcopy(raw)) if raw else None
                if schema is not None and outcome == "ok":
                    _patch_response(method, schema)
            if schema is not None:
                schema = _allow_extra_errors(method, schema)
                schema["definitions"] = self._defs
                self._cache[key] = _draft4(schema)
            else:
                self._cache[key] = None
        return self._cache[key]

    def check_response(self, method: str, body: Mapping[str, Any]) -> list[str]:
        """Problems with a body the fake answered: it must match the success or error schema."""
        if not self.knows(method):
            return []
        validator = self._response_validator(method, "ok" if body.get("ok") else "error")
        if validator is None:
            return [] if body.get("ok") or isinstance(body.get("error"), str) else ["no error code"]
        return [_describe(e) for e in validator.iter_errors(dict(body))]

    # ------------------------------------------------------------------ Events API
    def _topic_validator(self, topic: str) -> Checked:
        if topic not in self._topics:
            topics = self._specs.events["topics"]
            payload = topics[topic]["subscribe"]["payload"] if topic in topics else {"$ref": "x"}
            if "$ref" in payload:
                name = payload["$ref"].rsplit("/", 1)[-1]
                payload = self._specs.events["components"]["schemas"].get(name, self._specs.wrapper)
            self._topics[topic] = _draft7(payload)
        return self._topics[topic]

    @staticmethod
    def topic_for(event: Mapping[str, Any]) -> str:
        """The AsyncAPI topic an inner event belongs to (see allowlist.EVENT_TOPIC_NOTES)."""
        etype = str(event.get("type", ""))
        if etype == "message":
            kind = {"channel": "channels", "group": "groups", "app_home": "app.home"}
            ctype = str(event.get("channel_type", "channel"))
            return "message." + kind.get(ctype, ctype)
        return etype.replace("_", ".")

    def check_event(self, envelope: Mapping[str, Any]) -> list[str]:
        """Problems with an event_callback: the generic wrapper plus the topic's schema."""
        problems = [_describe(e) for e in self._wrapper.iter_errors(dict(envelope))]
        event = envelope.get("event")
        if isinstance(event, Mapping):
            topic = self._topic_validator(self.topic_for(event))
            problems += [_describe(e) for e in topic.iter_errors(dict(envelope))]
        return sorted(set(problems))

    def check_socket_envelope(self, frame: Mapping[str, Any]) -> list[str]:
        """Problems with a Socket Mode envelope (Steward's schema) and, for events, its payload."""
        problems = [_describe(e) for e in self._socket.iter_errors(dict(frame))]
        if frame.get("type") == "events_api" and isinstance(frame.get("payload"), Mapping):
            problems += self.check_event(frame["payload"])
        return problems


def _draft4(schema: dict[str, Any]) -> Checked:
    return checked(
        Draft4Validator(schema),
        lambda: jsonschema_rs.Draft4Validator(schema, validate_formats=False),
    )


def _draft7(schema: dict[str, Any]) -> Checked:
    return checked(
        Draft7Validator(schema),
        lambda: jsonschema_rs.Draft7Validator(schema, validate_formats=False),
    )


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return f"{where}: {error.message[:300]}"


@lru_cache(maxsize=2)
def validator_for(specs: SlackSpecs) -> SpecValidator:
    """One validator per loaded spec set (building it copies the 1 MB description once)."""
    return SpecValidator(specs)


def describe_args(args: Mapping[str, Any]) -> str:
    """Compact text of call arguments for violation messages."""
    return json.dumps({k: v for k, v in args.items() if k != "token"}, default=str)[:300]
