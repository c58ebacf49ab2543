"""Delivering events, commands and interactivity to the app: signed HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

SLACKBOT_UA = "Slackbot 1.0 (+https://api.slack.com/robots)"
KIND_TO_ENVELOPE = {"event": "events_api", "slash": "slash_commands", "interactive": "interactive"}


@dataclass(slots=True)
class Attempt:
    """One try at delivering something to the app."""

    number: int  # 0 for the first delivery, then the retry number
    transport: str  # http | socket
    status: int | None = None  # HTTP status (socket: 200 when acked)
    body: str = ""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    ack: dict[str, Any] | None = None  # socket ack frame
    elapsed: float = 0.0
    outcome: str = "pending"  # ok | timeout | http_error | connection_failed | lost
    late: bool = False  # the answer came after the deadline


@dataclass(slots=True)
class Delivery:
    """Everything that happened delivering one event / command / interaction."""

    kind: str  # event | slash | interactive
    payload: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    envelope_id: str | None = None

    @property
    def ok(self) -> bool:
        """Whether some attempt was answered in time with success."""
        return any(a.outcome == "ok" for a in self.attempts)

    @property
    def answer(self) -> Attempt | None:
        """The attempt whose (in-time) answer counts."""
        return next((a for a in self.attempts if a.outcome == "ok"), None)

    def ack_body(self) -> dict[str, Any] | None:
        """The ack body as Slack reads it: JSON object, `{"text": ...}` for plain text, or None."""
        ans = self.answer
        if ans is None:
            return None
        if ans.transport == "socket":
            payload = (ans.ack or {}).get("payload")
            return payload if isinstance(payload, dict) and payload else None
        if not ans.body:
            return None
        if ans.content_type.startswith("application/json"):
            try:
                parsed = json.loads(ans.body)
            except ValueError:
                return {"text": ans.body}
            return parsed if isinstance(parsed, dict) else None
        return {"text": ans.body}


def sign(secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """Signature headers (v0, HMAC-SHA256) for these exact bytes."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def encode_body(kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """Serialise as Slack does: JSON events, form slash commands, `payload=` form interactivity."""
    if kind == "event":
        return json.dumps(payload, separators=(",", ":")).encode(), "application/json"
    if kind == "slash":
        return urllib.parse.urlencode(payload).encode(), "application/x-www-form-urlencoded"
    form = {"payload": json.dumps(payload, separators=(",", ":"))}
    return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


@dataclass
class DeliveryConfig:
    """Timing knobs: Slack's are 3 s and retries after ~0 s, ~1 min, ~5 min; tests shrink them."""

    ack_deadline: float = 3.0
    retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0)
    connect_timeout: float = 5.0
    ack_latency: float = 0.0  # fault: the answer reaches "Slack" this much later
    slow_ack_count: int = 0  # fault: how many of the next answers get ack_latency


class Tracker:
    """Counts work in flight and wakes waiters on every change (the basis of settle/wait_for)."""

    def __init__(self) -> None:
        self.cond = asyncio.Condition()
        self.in_flight = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self._notifiers: set[asyncio.Future[None]] = set()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a background coroutine that settle() waits for."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        self.in_flight += 1

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            self.in_flight -= 1
            notifier = asyncio.ensure_future(self.changed())
            self._notifiers.add(notifier)
            notifier.add_done_callback(self._notifiers.discard)

        task.add_done_callback(done)
        return task

    async def changed(self) -> None:
        """Notify every waiter that state moved."""
        async with self.cond:
            self.cond.notify_all()


class HttpDeliverer:
    """Signed POSTs to the app's request URL, with Slack's deadline and retry rules."""

    def __init__(self, secret: str, config: DeliveryConfig, tracker: Tracker) -> None:
        self.secret = secret
        self.config = config
        self.tracker = tracker
        self.url: str | None = None
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Release the client session."""
        if self._session is not None:
            await self._session.close()

    def session(self) -> aiohttp.ClientSession:
        """The shared client session (created lazily inside the loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> Attempt:
        """POST exactly these bytes and headers to the app, with no signing of its own."""
        attempt = Attempt(number=0, transport="http")
        start = time.monotonic()
        if self.url is None:
            raise RuntimeError("no HTTP endpoint: call FakeSlack.use_http(url) first")
        try:
            async with self.session().post(self.url, data=body, headers=headers) as resp:
                attempt.status = resp.status
                attempt.body = await resp.text()
                attempt.content_type = resp.headers.get("Content-Type", "")
                attempt.headers = {k.lower(): v for k, v in resp.headers.items()}
        except aiohttp.ClientError:
            attempt.outcome = "connection_failed"
        if self.config.slow_ack_count > 0:
            self.config.slow_ack_count -= 1
            await asyncio.sleep(self.config.ack_latency)
        attempt.elapsed = time.monotonic() - start
        return attempt

    async def _post(self, body: bytes, ctype: str, extra: dict[str, str], number: int) -> Attempt:
        headers = {"Content-Type": ctype, "User-Agent": SLACKBOT_UA, **extra}
        headers.update(sign(self.secret, body, int(time.time())))
        attempt = await self.post_raw(body, headers)
        attempt.number = number
        if attempt.outcome == "pending":
            ok = attempt.status is not None and 200 <= attempt.status < 300
            attempt.outcome = "ok" if ok else "http_error"
        if attempt.elapsed > self.config.ack_deadline:
            attempt.late = True
            if attempt.outcome == "ok":
                attempt.outcome = "timeout"
        await self.tracker.changed()
        return attempt

    async def deliver(self, delivery: Delivery) -> None:
        """Deliver; events are retried 3 times on timeout or failure, the rest are not."""
        body, ctype = encode_body(delivery.kind, delivery.payload)
        retries = len(self.config.retry_delays) if delivery.kind == "event" else 0
        reason = ""
        for number in range(retries + 1):
            extra = (
                {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason} if number else {}
            )
            task = self.tracker.spawn(self._post(body, ctype, extra, number))
            done, _ = await asyncio.wait({task}, timeout=self.config.ack_deadline)
            if not done:
                # Slack stops waiting but does not cancel; the late answer is still recorded.
                placeholder = Attempt(number=number, transport="http", outcome="timeout", late=True)
                delivery.attempts.append(placeholder)
                task.add_done_callback(functools.partial(_fill, placeholder))
                reason = "http_timeout"
            else:
                attempt = task.result()
                delivery.attempts.append(attempt)
                if attempt.outcome == "ok":
                    return
                if attempt.headers.get("x-slack-no-retry") == "1":
                    return
                reason = {"connection_failed": "connection_failed", "timeout": "http_timeout"}.get(
                    attempt.outcome, "http_error"
                )
            if number < retries and self.config.retry_delays[number] > 0:
                await asyncio.sleep(self.config.retry_delays[number])


def _fill(placeholder: Attempt, task: asyncio.Task[Any]) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    late = task.result()
    placeholder.status, placeholder.body = late.status, late.body
    placeholder.content_type, placeholder.elapsed = late.content_type, late.elapsed


MAX_CONNECTIONS = 10
"""Socket Mode connections Slack keeps open for one app at once."""


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[dict[str, Any]]
    connection: int


class SocketHub:
    """Socket Mode: `/link` connections, hello, envelopes, acks, disconnects, redelivery."""

    def __init__(
        self,
        config: DeliveryConfig,
        tracker: Tracker,
        app_id: str,
        check_ticket: Callable[[str], bool],
        on_frame: Callable[[dict[str, Any]], None],
    ) -> None:
        self.config = config
        self.tracker = tracker
        self.app_id = app_id
        self.check_ticket = check_ticket
        self.on_frame = on_frame  # validation hook for every envelope sent
        self.connections: dict[int, web.WebSocketResponse] = {}
        self.pending: dict[str, _Pending] = {}
        self.acks: list[dict[str, Any]] = []  # every ack frame received
        self.sent: list[dict[str, Any]] = []  # every envelope written (dropped ones excluded)
        self.connects = 0
        self.refused = 0
        """Connections refused as past the app's ``limit``."""
        self.limit = MAX_CONNECTIONS
        """Connections kept open at once (a test lowers it to crowd the app out)."""
        self.drop_next = 0  # fault: lose the next N envelopes together with their connection
        self.down = False  # fault: an outage (see outage()); handshakes wait, envelopes are lost
        self._up = asyncio.Event()
        self._up.set()
        self._seq = 0
        self._turn = 0

    @property
    def connected(self) -> bool:
        """Whether an app connection is open."""
        return any(not ws.closed for ws in self.connections.values())

    async def handle_link(self, request: web.Request) -> web.StreamResponse:
        """The `/link` websocket endpoint that apps.connections.open URLs point at."""
        if not self.check_ticket(request.query.get("ticket", "")):
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        await self._up.wait()  # during an outage the handshake waits for the link to return
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if sum(1 for w in self.connections.values() if not w.closed) >= self.limit:
            # Slack allows an app 10 open Socket Mode connections; the one past them is told
            # so instead of hello and closed, and the 10 stay open (a maintainer: "we only
            # allow 10 concurrent websocket connections per app", slackapi/node-slack-sdk#1654;
            # an app starting beside 10 stale connections got this frame while its client was
            # still connecting, slackapi/bolt-js#2238 and #2225). apps.connections.open itself
            # answers ok: its documented errors have none for this.
            self.refused += 1
            await ws.send_json(
                {
                    "type": "disconnect",
                    "reason": "too_many_websockets",
                    "debug_info": {"host": "applink-fake-1"},
                }
            )
            await ws.close()
            return ws
        self._seq += 1
        conn = self._seq
        self.connections[conn] = ws
        self.connects += 1
        hello = {
            "type": "hello",
            "num_connections": sum(1 for w in self.connections.values() if not w.closed),
            "debug_info": {
                "host": "applink-fake-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        await ws.send_json(hello)
        await self.tracker.changed()
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await self._on_text(msg.data)
        finally:
            self.connections.pop(conn, None)
            for pending in self.pending.values():
                if pending.connection == conn and not pending.future.done():
                    pending.future.set_exception(ConnectionResetError("connection lost"))
            await self.tracker.changed()
        return ws

    async def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        eid = frame.get("envelope_id") if isinstance(frame, dict) else None
        if not eid:
            return
        if self.config.slow_ack_count > 0:
            self.config.slow_ack_count -= 1
            await asyncio.sleep(self.config.ack_latency)
        self.acks.append(frame)
        pending = self.pending.get(eid)
        if pending is not None and not pending.future.done():
            pending.future.set_result(frame)
        await self.tracker.changed()

    async def _connection(self) -> tuple[int, web.WebSocketResponse]:
        """The next open connection in turn: Slack spreads an app's envelopes over all of its
        connections (up to 10), so an app running several processes gets some on each."""

        async def next_in_turn() -> tuple[int, web.WebSocketResponse] | None:
            live = [(k, w) for k, w in self.connections.items() if not w.closed]
            if not live:
                return None
            self._turn += 1
            return live[self._turn % len(live)]

        deadline = time.monotonic() + self.config.connect_timeout
        while True:
            found = await next_in_turn()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no Socket Mode connection")
            # The timeout runs in this task, which holds the condition's lock (see wait_for).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining), self.tracker.cond:
                    await self.tracker.cond.wait()

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Send a `disconnect` frame on every open connection (the client reconnects)."""
        frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
        for ws in list(self.connections.values()):
            if not ws.closed:
                await ws.send_json(frame)

    async def outage(self) -> None:
        """Close every connection and hold new handshakes until ``restore()``."""
        self.down = True
        self._up.clear()
        await self.close_all()
        await self.tracker.changed()

    def restore(self) -> None:
        """End an outage: held handshakes complete (each gets its hello)."""
        self.down = False
        self._up.set()

    async def close_all(self) -> None:
        """Close every connection (server side)."""
        for ws in list(self.connections.values()):
            await ws.close()

    async def deliver(self, delivery: Delivery) -> None:
        """Send the envelope; events are redelivered until acked (3 retries), others get one try."""
        etype = KIND_TO_ENVELOPE[delivery.kind]
        eid = str(uuid.uuid4())
        delivery.envelope_id = eid
        retries = len(self.config.retry_delays) if delivery.kind == "event" else 0
        reason = ""
        for number in range(retries + 1):
            attempt = Attempt(number=number, transport="socket")
            delivery.attempts.append(attempt)
            frame: dict[str, Any] = {
                "envelope_id": eid,
                "type": etype,
                "payload": delivery.payload,
                "accepts_response_payload": accepts_response(delivery),
            }
            if delivery.kind == "event":
                frame.update(retry_attempt=number, retry_reason=reason)
            self.on_frame(frame)
            start = time.monotonic()
            loop = asyncio.get_running_loop()
            try:
                if self.down:
                    raise TimeoutError("Socket Mode is down")
                conn, ws = await self._connection()
            except TimeoutError:
                attempt.outcome = "connection_failed"
                reason = "connection_failed"
                continue
            pending = _Pending(loop.create_future(), conn)
            self.pending[eid] = pending
            try:
                if self.drop_next > 0:
                    self.drop_next -= 1
                    await ws.close()  # the connection drops with the envelope in transit
                else:
                    await ws.send_json(frame)
                    self.sent.append(frame)
                ack = await asyncio.wait_for(
                    asyncio.shield(pending.future), self.config.ack_deadline
                )
                attempt.ack, attempt.status, attempt.outcome = ack, 200, "ok"
            except TimeoutError:
                attempt.outcome, reason = "timeout", "timeout"
            except (ConnectionResetError, ConnectionError, RuntimeError):
                attempt.outcome, reason = "lost", "timeout"
            finally:
                attempt.elapsed = time.monotonic() - start
                self.pending.pop(eid, None)
                await self.tracker.changed()
            if attempt.outcome == "ok":
                return
            if number < retries and self.config.retry_delays[number] > 0:
                await asyncio.sleep(self.config.retry_delays[number])


def accepts_response(delivery: Delivery) -> bool:
    """Whether Slack reads a payload in the answer (the envelope's accepts_response_payload)."""
    if delivery.kind == "slash":
        return True
    if delivery.kind == "interactive":
        return delivery.payload.get("type") in {"view_submission", "block_suggestion"}
    return False
