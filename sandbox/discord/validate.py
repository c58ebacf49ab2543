"""Validation of REST traffic against Discord's official OpenAPI 3.1 description.

The spec lives outside the repository (``<repo>/../shared/specs/discord/openapi.json``, or
``$STEWARD_SHARED_DIR/specs/discord/openapi.json``) and is never copied into the project. It is
loaded and indexed once per process; a JSON Schema validator is compiled lazily per operation and
cached, so start-up stays fast even though the document is large.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from sandbox.schemacheck import Checked, checked

SPEC_URI = "urn:discord:openapi"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


class SpecNotFound(FileNotFoundError):
    """Raised when the Discord OpenAPI description cannot be found."""


def spec_path() -> Path:
    """Return where the spec should be: $STEWARD_SHARED_DIR, else ``<repo>/../shared``."""
    shared = os.environ.get("STEWARD_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return base / "specs" / "discord" / "openapi.json"


@dataclass(frozen=True)
class Violation:
    """One mismatch between traffic and the spec (or an unknown route)."""

    kind: str  # unknown-route | request-path | request-query | request-body | response-body | ...
    method: str
    path: str
    operation_id: str | None
    detail: str

    def __str__(self) -> str:
        op = self.operation_id or "?"
        return f"[{self.kind}] {self.method} {self.path} ({op}): {self.detail}"


@dataclass(frozen=True)
class SpecException:
    """A documented place where the spec disagrees with what Discord and discord.py really do."""

    operation_id: str
    kind: str
    match: str  # a substring of the violation detail
    reason: str


# Keep this list short, and give every entry a reason that a reviewer can check.
SPEC_EXCEPTIONS: tuple[SpecException, ...] = (
    SpecException(
        operation_id="ban_user_from_guild",
        kind="request-query",
        match="unknown query parameter delete_message_seconds",
        reason=(
            "discord.py 2.7 (http.HTTPClient.ban) sends delete_message_seconds as a query "
            "parameter; Discord accepts it there, the spec only documents the JSON body field."
        ),
    ),
    SpecException(
        operation_id="ban_user_from_guild",
        kind="request-body",
        match="required body is missing",
        reason=(
            "The spec marks the ban body as required, but every field in it is optional and "
            "discord.py sends no body at all (delete_message_seconds goes in the query)."
        ),
    ),
    SpecException(
        operation_id="create_thread",
        kind="request-query",
        match="unknown query parameter use_nested_fields",
        reason=(
            "discord.py 2.7 (http.HTTPClient.start_thread_in_forum) opens a forum post with "
            "?use_nested_fields=true, the switch Discord's forum API launched with (the message "
            "nested under `message`); Discord still accepts it, the spec no longer lists it."
        ),
    ),
)


@dataclass(frozen=True)
class SchemaPatch:
    """A documented correction of one component schema, for requests or responses only."""

    schema: str
    side: str  # "request" | "response"
    replacement: Mapping[str, Any]
    reason: str


SCHEMA_PATCHES: tuple[SchemaPatch, ...] = (
    SchemaPatch(
        schema="SnowflakeType",
        side="request",
        replacement={
            "anyOf": [
                {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"},
                {"type": "integer", "minimum": 0},
            ]
        },
        reason=(
            "Discord accepts snowflakes as JSON integers in request bodies and discord.py sends "
            "them that way (e.g. create_dm recipient_id, member roles). Responses stay strict: "
            "the fake must answer with strings, as Discord does."
        ),
    ),
    SchemaPatch(
        schema="InnerErrors",
        side="response",
        replacement={
            "type": "object",
            "properties": {
                "_errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                        "required": ["code", "message"],
                    },
                }
            },
            "additionalProperties": False,
            "required": ["_errors"],
        },
        reason=(
            "Field errors in a 50035 Invalid Form Body carry string codes such as "
            "'BASE_TYPE_MAX_LENGTH' (Discord's documented example and real responses); the spec "
            "reuses the top-level Error schema whose code is an integer."
        ),
    ),
)


def _patched(document: Mapping[str, Any], side: str) -> Mapping[str, Any]:
    patches = [p for p in SCHEMA_PATCHES if p.side == side]
    if not patches:
        return document
    schemas = dict(document["components"]["schemas"])
    for patch in patches:
        schemas[patch.schema] = patch.replacement
    return {**document, "components": {**document["components"], "schemas": schemas}}


@dataclass
class Operation:
    """One (method, path template) of the spec."""

    method: str
    template: str
    operation_id: str
    pointer: str  # JSON pointer to the operation object
    regex: re.Pattern[str]
    literal_segments: int
    definition: Mapping[str, Any]
    path_parameters: list[Mapping[str, Any]] = field(default_factory=list)

    def parameters(self) -> list[Mapping[str, Any]]:
        """Return path-level plus operation-level parameters (operation wins by name+in)."""
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for p in [*self.path_parameters, *self.definition.get("parameters", [])]:
            merged[(p["name"], p["in"])] = p
        return list(merged.values())

    @property
    def needs_bot_token(self) -> bool:
        """Return True if a bot token is required (no anonymous ``{}`` alternative)."""
        security = self.definition.get("security", [])
        return any("BotToken" in s for s in security) and {} not in security


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    parts = template.strip("/").split("/")
    out, literals = [], 0
    for part in parts:
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m:
            out.append(f"(?P<{m.group(1)}>[^/]+)")
        else:
            literals += 1
            out.append(re.escape(part))
    return re.compile("^/" + "/".join(out) + "$"), literals


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class Spec:
    """The parsed spec: a route table and a cache of compiled validators."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.registries: dict[str, Registry[Any]] = {}
        self._patched: dict[str, Mapping[str, Any]] = {}
        self._fast_registries: dict[str, Any] = {}
        for side in ("request", "response"):
            contents = self._patched[side] = _patched(document, side)
            resource: Resource[Any] = DRAFT202012.create_resource(contents)
            self.registries[side] = Registry().with_resource(SPEC_URI, resource)
        self.operations: list[Operation] = []
        self.by_id: dict[str, Operation] = {}
        for template, item in document["paths"].items():
            regex, literals = _template_regex(template)
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                operation = Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op["operationId"],
                    pointer=_pointer("paths", template, method),
                    regex=regex,
                    literal_segments=literals,
                    definition=op,
                    path_parameters=list(item.get("parameters", [])),
                )
                self.operations.append(operation)
                self.by_id[operation.operation_id] = operation
        # more literal segments first, so /messages/pins wins over /messages/{message_id}
        self.operations.sort(key=lambda o: -o.literal_segments)
        self._validators: dict[tuple[str, str], Checked] = {}

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """Return the operation and path parameters for a request path (after /api/v10)."""
        for op in self.operations:
            if op.method != method:
                continue
            m = op.regex.match(path)
            if m:
                return op, m.groupdict()
        return None

    def validator(self, pointer: str, side: str = "request") -> Checked:
        """Return a cached validator for the schema at a JSON pointer into the spec."""
        v = self._validators.get((pointer, side))
        if v is None:
            ref = SPEC_URI + "#" + quote(pointer, safe="/~")
            slow = Draft202012Validator({"$ref": ref}, registry=self.registries[side])

            def compile_fast() -> Any:
                return jsonschema_rs.Draft202012Validator(
                    {"$ref": ref}, registry=self._fast_registry(side), validate_formats=False
                )

            v = self._validators[(pointer, side)] = checked(slow, compile_fast)
        return v

    def _fast_registry(self, side: str) -> Any:
        """The spec for ``jsonschema-rs`` (see ``sandbox.schemacheck``), made once per side."""
        registry = self._fast_registries.get(side)
        if registry is None:
            registry = self._fast_registries[side] = jsonschema_rs.Registry(
                [(SPEC_URI, self._patched[side])], draft=jsonschema_rs.Draft202012
            )
        return registry

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a local ``$ref`` (responses/parameters) to its target object."""
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node


@functools.cache
def load_spec(path: Path | None = None) -> Spec:
    """Load and index the spec once per process; raise SpecNotFound if it is absent."""
    path = path or spec_path()
    if not path.is_file():
        raise SpecNotFound(f"Discord OpenAPI spec not found at {path} (set STEWARD_SHARED_DIR)")
    with path.open("rb") as fh:
        return Spec(json.load(fh))


def _errors(validator: Checked, instance: Any) -> str | None:
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    # For oneOf/anyOf, report the most specific failure inside the best-matching branch.
    # The deepest error is the one in the branch that matched the most.
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return f"at {where}: {error.message[:300]}"


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    types = schema.get("type")
    kinds = types if isinstance(types, list) else [types]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in kinds:
        # Discord parses query booleans leniently: true/false, True/False and 1/0 all work
        # (discord.py sends with_response=1 in production).
        lenient = {
            "true": True,
            "false": False,
            "True": True,
            "False": False,
            "1": True,
            "0": False,
        }
        return lenient.get(value, value)
    return value


class SpecValidator:
    """Checks requests and responses of one fake against the spec, collecting violations."""

    def __init__(self, spec: Spec, exceptions: tuple[SpecException, ...] = SPEC_EXCEPTIONS) -> None:
        self.spec = spec
        self.exceptions = exceptions
        self.excused: list[tuple[Violation, SpecException]] = []

    def _filter(self, violations: list[Violation]) -> list[Violation]:
        kept = []
        for v in violations:
            exc = next(
                (
                    e
                    for e in self.exceptions
                    if e.operation_id == v.operation_id and e.kind == v.kind and e.match in v.detail
                ),
                None,
            )
            if exc is None:
                kept.append(v)
            else:
                self.excused.append((v, exc))
        return kept

    def check_request(
        self,
        op: Operation,
        path: str,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
        has_body: bool,
    ) -> list[Violation]:
        """Return violations of path params, query params and JSON body."""
        out: list[Violation] = []

        def add(kind: str, detail: str) -> None:
            out.append(Violation(kind, op.method, path, op.operation_id, detail))

        params = op.parameters()
        known_query = set()
        for p in params:
            p = self.spec.resolve(p)
            schema = self.spec.resolve(p.get("schema", {}))
            if p["in"] == "path":
                value = path_params.get(p["name"])
                if value is None:
                    add("request-path", f"missing path parameter {p['name']}")
                    continue
                validator = self.spec.validator(self._param_pointer(op, p))
                err = _errors(validator, _coerce(value, schema))
                if err:
                    add("request-path", f"{p['name']}={value!r} {err}")
            elif p["in"] == "query":
                known_query.add(p["name"])
                values = query.get(p["name"])
                if values is None:
                    if p.get("required"):
                        add("request-query", f"missing required query parameter {p['name']}")
                    continue
                is_array = schema.get("type") == "array"
                item_schema = schema.get("items", {}) if is_array else schema
                coerced = [_coerce(v, self.spec.resolve(item_schema)) for v in values]
                instance = coerced if is_array else coerced[0]
                err = _errors(self.spec.validator(self._param_pointer(op, p)), instance)
                if err:
                    add("request-query", f"{p['name']}={values!r} {err}")
        for name in query:
            if name not in known_query:
                add("request-query", f"unknown query parameter {name}")

        request_body = op.definition.get("requestBody")
        if request_body is None:
            if has_body and body not in (None, {}, ""):
                add("request-body", "operation takes no body but one was sent")
        elif not has_body:
            if request_body.get("required"):
                add("request-body", "required body is missing")
        else:
            pointer = op.pointer + _pointer("requestBody", "content", "application/json", "schema")
            err = _errors(self.spec.validator(pointer), body)
            if err:
                add("request-body", err)
        return self._filter(out)

    def _param_pointer(self, op: Operation, param: Mapping[str, Any]) -> str:
        # locate the parameter object inside the operation or path item to point at its schema
        for i, p in enumerate(op.definition.get("parameters", [])):
            if p is param or (p.get("name"), p.get("in")) == (param["name"], param["in"]):
                return op.pointer + _pointer("parameters", str(i), "schema")
        path_item = op.pointer.rsplit("/", 1)[0]
        for i, p in enumerate(op.path_parameters):
            if (p.get("name"), p.get("in")) == (param["name"], param["in"]):
                return path_item + _pointer("parameters", str(i), "schema")
        raise KeyError(param["name"])

    def response_schema_pointer(self, op: Operation, status: int) -> tuple[str | None, bool]:
        """Return (pointer to the JSON schema or None if no body, documented?) for a status."""
        responses = op.definition.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                resp = responses[key]
                base = op.pointer + _pointer("responses", key)
                if "$ref" in resp:
                    base = resp["$ref"].lstrip("#")
                    resp = self.spec.resolve(resp)
                content = resp.get("content", {})
                if "application/json" in content:
                    return base + _pointer("content", "application/json", "schema"), True
                return None, True
        return None, False

    def check_response(self, op: Operation, path: str, status: int, body: Any) -> list[Violation]:
        """Return violations of the response body against the schema for its status."""
        pointer, documented = self.response_schema_pointer(op, status)
        out: list[Violation] = []
        if not documented:
            out.append(
                Violation("response-status", op.method, path, op.operation_id, f"status {status}")
            )
        elif pointer is None:
            if body is not None:
                out.append(
                    Violation(
                        "response-body",
                        op.method,
                        path,
                        op.operation_id,
                        "body on a bodiless status",
                    )
                )
        else:
            err = _errors(self.spec.validator(pointer, "response"), body)
            if err:
                out.append(Violation("response-body", op.method, path, op.operation_id, err))
        return self._filter(out)
