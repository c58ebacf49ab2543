"""The REST API under /api/v10: routing by the spec, auth, rate limits, faults, validation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from .limits import Limits
from .validate import Operation, Spec, SpecValidator, Violation

if TYPE_CHECKING:
    from .server import FakeDiscord

JSON = dict[str, Any]
API_PREFIX = "/api/v10"


class RestError(Exception):
    """An error Discord would answer with: ``{"code", "message", "errors"?}``."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> JSON:
        """Return the JSON error body."""
        out: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def invalid_form(field_path: str, message: str, code: str = "BASE_TYPE_INVALID") -> RestError:
    """Return a 400/50035 Invalid Form Body error for one field."""
    tree: JSON = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        tree = {part: tree}
    return RestError(400, 50035, "Invalid Form Body", tree)


@dataclass
class Reply:
    """A REST answer: status and JSON body (None for 204)."""

    status: int = 200
    body: Any = None

    @classmethod
    def empty(cls) -> Reply:
        """Return a 204 No Content reply."""
        return cls(204, None)


@dataclass
class Call:
    """One REST request as the handlers see it."""

    method: str
    path: str
    operation: Operation
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    files: list[JSON]
    reason: str | None

    def q(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def flag(self, name: str) -> bool:
        """Return a boolean query parameter."""
        return (self.q(name) or "").lower() in ("1", "true")

    @property
    def json(self) -> JSON:
        """Return the body as a dict (empty when absent)."""
        return self.body if isinstance(self.body, dict) else {}


Handler = Callable[["FakeDiscord", Call], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}
# operationId -> "METHOD /template", as the spec writes them (a test keeps the two in step), so
# the fake routes requests without the spec: the sandbox runs on a machine without ../shared.
ROUTES: dict[str, str] = {}
# Routes authenticated by the token in their path (webhooks, interactions) or not at all.
_ANONYMOUS_PREFIXES = ("/webhooks/", "/interactions/")


def route(**operations: str) -> Callable[[Handler], Handler]:
    """Register a handler for spec operationIds, each with its ``"METHOD /template"``."""

    def deco(fn: Handler) -> Handler:
        for op_id, where in operations.items():
            HANDLERS[op_id] = fn
            ROUTES[op_id] = where
        return fn

    return deco


def builtin_spec() -> Spec:
    """A route table of the operations the fake implements, for running without the spec."""
    paths: dict[str, dict[str, Any]] = {}
    for op_id, where in ROUTES.items():
        method, template = where.split(" ", 1)
        anonymous = template.startswith(_ANONYMOUS_PREFIXES) or template == "/gateway"
        security: list[dict[str, list[str]]] = [{}] if anonymous else [{"BotToken": []}]
        paths.setdefault(template, {})[method.lower()] = {
            "operationId": op_id,
            "security": security,
        }
    return Spec({"paths": paths, "components": {"schemas": {}}})


@dataclass
class RequestRecord:
    """A logged REST exchange."""

    method: str
    path: str
    operation_id: str | None
    query: dict[str, list[str]]
    body: Any
    reason: str | None
    status: int = 0
    response: Any = None
    injected: bool = False
    scope: str | None = None
    """A 429's ``X-RateLimit-Scope`` (user, global, shared) or ``ban`` (Cloudflare's)."""
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (``time.monotonic()``): a test checks that waits were kept."""


@dataclass
class Faults:
    """Failure switches: each counter applies to the next N requests."""

    rate_limited: int = 0
    retry_after: float = 0.05
    rate_limit_global: bool = False
    server_errors: int = 0
    server_error_status: int = 500
    banned: int = 0  # Cloudflare-style 429s (no Via, a plain-text body), as when banned
    delay: float = 0.0
    delay_count: int = 0  # 0 with delay > 0 means every request
    # operation id (or "operation id:channel id", for that channel's only) -> awaited after the
    # fake handled the next such request, before it answers (a client that dies meanwhile never
    # learns the outcome: "crash between send and record")
    stall_after: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)

    def take(self) -> tuple[str | None, float]:
        """Consume one request's worth of faults: (kind | None, delay seconds)."""
        delay = 0.0
        if self.delay > 0:
            delay = self.delay
            if self.delay_count:
                self.delay_count -= 1
                if self.delay_count == 0:
                    self.delay = 0.0
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return "429", delay
        if self.server_errors > 0:
            self.server_errors -= 1
            return "5xx", delay
        if self.banned > 0:
            self.banned -= 1
            return "ban", delay
        return None, delay


class RestApi:
    """The aiohttp handler for everything under /api/v10."""

    def __init__(
        self, fake: FakeDiscord, validator: SpecValidator | None, speed: float | None = None
    ) -> None:
        self.fake = fake
        self.validator = validator
        # With the spec, every operation it describes is routed (unimplemented ones are named
        # as such); without it, only the operations the fake implements.
        self.routes = validator.spec if validator is not None else builtin_spec()
        self.faults = Faults()
        self.inflight = 0
        self.log: list[RequestRecord] = []
        self.limits = Limits() if speed is None else Limits(speed)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one REST request."""
        self.inflight += 1
        self.fake.notify()
        try:
            return await self._handle(request)
        finally:
            self.inflight -= 1
            self.fake.notify()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.rel_url.raw_path[len(API_PREFIX) :] or "/"
        path = "/" + "/".join(unquote(p) for p in raw.strip("/").split("/"))
        query: dict[str, list[str]] = {}
        for k, v in request.query.items():
            query.setdefault(k, []).append(v)
        body, files, has_body = await self._read_body(request)
        # Clients URL-encode the audit log reason (discord.py does); Discord stores it decoded.
        reason = request.headers.get("X-Audit-Log-Reason")
        record = RequestRecord(
            request.method, path, None, query, body, unquote(reason) if reason else reason
        )
        self.log.append(record)

        kind, delay = self.faults.take()
        if delay:
            await asyncio.sleep(delay)

        matched = self.routes.match(request.method, path)
        if matched is None and self.validator is not None:
            self.fake.add_violation(
                Violation("unknown-route", request.method, path, None, "no such operation in spec")
            )
            return self._respond(record, 404, {"code": 0, "message": "404: Not Found"}, None)
        if matched is None:
            return self._respond(record, 404, {"code": 0, "message": "404: Not Found"}, None)
        op, params = matched
        record.operation_id = op.operation_id
        self.fake.operations_used.add(op.operation_id)
        bucket_key = self._bucket_key(op, params)

        if kind == "429":
            record.injected = True
            return self._rate_limited(record, op, bucket_key, self.faults.retry_after)
        if kind == "5xx":
            record.injected = True
            status = self.faults.server_error_status
            return self._respond(
                record, status, {"code": 0, "message": f"{status}: Server Error"}, None
            )

        if kind == "ban" or self.limits.now() < self.limits.banned_until:
            record.injected = kind == "ban"
            return self._banned(record)
        if op.needs_bot_token and request.headers.get("Authorization") != f"Bot {self.fake.token}":
            return self._respond(record, 401, {"code": 0, "message": "401: Unauthorized"}, op)

        if self.validator is not None:
            problems = self.validator.check_request(op, path, params, query, body, has_body)
            for problem in problems:
                self.fake.add_violation(problem)
            bad_body = [p for p in problems if p.kind == "request-body"]
            if bad_body:
                err = RestError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {
                        "_errors": [
                            {"code": "BASE_TYPE_INVALID", "message": v.detail} for v in bad_body
                        ]
                    },
                )
                return self._respond(record, 400, err.body(), op, bucket_key)

        refused = self.limits.check(op.operation_id, bucket_key, path, params.get("channel_id"))
        if refused is not None:
            if refused.scope == "ban":
                return self._banned(record)
            return self._rate_limited(record, op, bucket_key, refused.retry_after, refused.scope)

        handler = HANDLERS.get(op.operation_id)
        if handler is None:
            self.fake.add_violation(
                Violation(
                    "not-implemented", op.method, path, op.operation_id, "fake has no handler"
                )
            )
            return self._respond(
                record,
                404,
                {"code": 0, "message": f"fake does not implement {op.operation_id}"},
                None,
            )
        call = Call(request.method, path, op, params, query, body, files, record.reason)
        try:
            reply = await handler(self.fake, call)
        except RestError as exc:
            reply = Reply(exc.status, exc.body())
        stalls = self.faults.stall_after
        stall = stalls.pop(f"{op.operation_id}:{params.get('channel_id')}", None) or stalls.pop(
            op.operation_id, None
        )
        if stall is not None:
            await stall()
        return self._respond(record, reply.status, reply.body, op, bucket_key)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[JSON], bool]:
        if not request.can_read_body:
            return None, [], False
        if request.content_type == "multipart/form-data":
            body: Any = None
            files: list[JSON] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    data = await part.read()
                    files.append(
                        {"name": part.name, "filename": part.filename, "data": bytes(data)}
                    )
            return body, files, True
        raw = await request.read()
        if not raw:
            return None, [], False
        try:
            return json.loads(raw), [], True
        except ValueError:
            return raw.decode(errors="replace"), [], True

    def _bucket_key(self, op: Operation, params: dict[str, str]) -> str:
        # Discord's major parameters; an interaction's token (webhook_token on its followup
        # routes) makes each interaction a bucket of its own, as on Discord.
        majors = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
        major = [params.get(k, "") for k in majors]
        return op.operation_id + ":" + ":".join(major)

    def _ratelimit_headers(self, key: str) -> dict[str, str]:
        op_id = key.split(":")[0]
        bucket = self.limits.bucket(op_id, key)
        return bucket.headers(self.limits.now(), self.limits.bucket_hash(op_id))

    def _rate_limited(
        self,
        record: RequestRecord,
        op: Operation,
        key: str,
        retry_after: float,
        scope: str = "user",
    ) -> web.Response:
        retry_after = round(max(retry_after, 0.001), 3)
        if record.injected and self.faults.rate_limit_global:
            scope = "global"
        is_global = scope == "global"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        headers = {
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        record.scope = scope
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(self._ratelimit_headers(key))
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Reset-After"] = f"{retry_after:.3f}"
        return self._respond(record, 429, body, op, None, headers)

    def _banned(self, record: RequestRecord) -> web.Response:
        """Cloudflare's answer to an address over the invalid-request limit: no Via, no JSON."""
        record.status, record.response, record.scope = 429, "error code: 1015", "ban"
        self.limits.answered(429, "ban")
        return web.Response(status=429, text="error code: 1015", content_type="text/plain")

    def _respond(
        self,
        record: RequestRecord,
        status: int,
        body: Any,
        op: Operation | None,
        bucket_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        record.status, record.response = status, body
        self.limits.answered(status, record.scope)
        if op is not None and self.validator is not None:
            for v in self.validator.check_response(op, record.path, status, body):
                self.fake.add_violation(v)
        all_headers = {"Via": "1.1 google"}
        if bucket_key is not None:
            all_headers.update(self._ratelimit_headers(bucket_key))
        all_headers.update(headers or {})
        if status == 204 or body is None:
            return web.Response(status=status, headers=all_headers)
        # discord.py compares Content-Type with == "application/json": no charset parameter.
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            headers=all_headers,
            content_type="application/json",
        )
