"""The fake's HTTP side on 127.0.0.1: Web API, uploads, response_urls, Socket Mode link."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import answers, blockkit, scopes
from .delivery import (
    Delivery,
    DeliveryConfig,
    HttpDeliverer,
    SocketHub,
    Tracker,
    accepts_response,
)
from .faults import Faults, PostLimit, TierLimit
from .outcomes import Outcome, Shown
from .payloads import event_callback
from .recording import MethodLog
from .state import APP_ID, Ephemeral, Identity, World
from .validate import SpecValidator, Violation
from .webapi import ApiError, Call, WebApi

_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
_MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update"}
_VIEW_METHODS = {"views.open", "views.push", "views.update", "views.publish"}


def _structured(value: Any) -> Any:
    """A JSON argument sent either as JSON or as a JSON string (form encoding)."""
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(slots=True)
class ApiCall:
    """One Web API request as the fake saw it."""

    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: int | None = None
    """A 429's ``Retry-After`` (whole seconds, at the platform's speed)."""
    at: float = field(default_factory=time.monotonic)
    """When the call arrived (``time.monotonic()``): a test checks that waits were kept."""


@dataclass(slots=True)
class ResponseTarget:
    """Where a response_url posts: the channel, the invoker and, for clicks, the source."""

    team_id: str
    channel: str
    user: str
    source_ts: str | None = None
    source_ephemeral: bool = False
    outcome: Outcome | None = None
    uses: int = 0
    issued: float = field(default_factory=time.monotonic)


class SlackServer:
    """World, aiohttp server, validation and delivery; FakeSlack adds the people-facing API."""

    def __init__(
        self,
        *,
        signing_secret: str,
        validator: SpecValidator | None,
        method_log: MethodLog | None,
        config: DeliveryConfig,
        echo_bot_messages: bool,
    ) -> None:
        self.signing_secret = signing_secret
        self.validator = validator
        self.method_log = method_log
        self.world = World()
        self.tracker = Tracker()
        self.faults = Faults()
        self.post_limit = PostLimit()
        self.tier_limit = TierLimit()
        self.config = config
        self.violations: list[Violation] = []
        self.calls: list[ApiCall] = []
        self.deliveries: list[Delivery] = []
        self.response_urls: dict[str, ResponseTarget] = {}
        self.revoked: set[str] = set()
        self.socket_mode = False  # set by FakeSlack.use_socket_mode()
        # Set by grant_bot_scopes(): the token holds the scopes of Steward's own manifest, so a
        # missing_scope is Steward's defect (a test that takes scopes away on purpose unsets it).
        self.scopes_are_steward_s = False
        self.response_url_ttl = 30 * 60.0  # seconds; tests shorten it to see expiry
        self.api = WebApi(
            self.world, self.emit, lambda: self.base_url, echo_bot_messages=echo_bot_messages
        )
        self.http = HttpDeliverer(signing_secret, config, self.tracker)
        self.socket = SocketHub(config, self.tracker, APP_ID, self._use_ticket, self._check_frame)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._event_seq = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The base_url to give AsyncWebClient: http://127.0.0.1:PORT/api/"""
        return f"{self.base_url}/api/"

    def build_app(self) -> web.Application:
        """The aiohttp application with every route the fake serves."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self._api_route),
                web.post("/upload/{file_id}", self._upload_route),
                web.post("/response/{rid}", self._response_route),
                web.get("/link/", self.socket.handle_link),
                web.get("/link", self.socket.handle_link),
                web.route("*", "/{method:[a-z]+\\.[A-Za-z.]+}", self._no_prefix_route),
            ]
        )
        return app

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        self._runner = web.AppRunner(self.build_app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Wait for background deliveries, close sockets, stop the server."""
        if self.tracker.tasks:
            await asyncio.wait(set(self.tracker.tasks), timeout=self.config.ack_deadline + 2)
        for task in list(self.tracker.tasks):
            task.cancel()
        self.socket.restore()  # release handshakes held by an outage, so none outlives the server
        await self.socket.close_all()
        await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ validation
    def violation(self, kind: str, subject: str, message: str) -> None:
        """Record one mismatch with Slack's description."""
        self.violations.append(Violation(kind, subject, message))

    def _check_frame(self, frame: dict[str, Any]) -> None:
        if self.validator is not None:
            for problem in self.validator.check_socket_envelope(frame):
                self.violation("envelope", str(frame.get("type")), problem)

    def _check_event(self, envelope: dict[str, Any]) -> None:
        if self.validator is not None:
            subject = str(envelope.get("event", {}).get("type"))
            for problem in self.validator.check_event(envelope):
                self.violation("event", subject, problem)

    # ------------------------------------------------------------------ Web API
    async def _merged_args(self, request: web.Request) -> tuple[dict[str, Any], frozenset[str]]:
        args: dict[str, Any] = dict(request.query)
        json_keys: frozenset[str] = frozenset()
        if request.can_read_body:
            if request.content_type == "application/json":
                body = json.loads(await request.text() or "{}")
                if isinstance(body, dict):
                    args.update(body)
                    json_keys = frozenset(body)
            elif request.content_type in _FORM_TYPES:
                for key, value in (await request.post()).items():
                    args[key] = value.file.read() if isinstance(value, web.FileField) else value
        return args, json_keys

    def identity(self, token: str | None) -> Identity | str:
        """Who a token speaks for, or the Slack error code for it."""
        if not token:
            return "not_authed"
        if token in self.revoked:
            return "token_revoked"
        who = self.world.tokens.get(token)
        return who if who is not None else "invalid_auth"

    async def _api_route(self, request: web.Request) -> web.StreamResponse:
        self.tracker.in_flight += 1
        try:
            return await self._api(request)
        finally:
            self.tracker.in_flight -= 1
            await self.tracker.changed()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args, json_keys = await self._merged_args(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.get("token")
        args.pop("token", None)
        if json_keys and self.validator is not None and not self.validator.reads_json(method):
            args = {k: v for k, v in args.items() if k not in json_keys}  # Slack ignores it
        record = ApiCall(method, args, token)
        self.calls.append(record)
        if self.method_log is not None and (self.validator is None or self.validator.knows(method)):
            self.method_log.add(method)
        if self.validator is not None:
            for problem in self.validator.check_request(method, args, json_keys):
                self.violation("request", method, problem)
            content_type = request.content_type if request.body_exists else ""
            for problem in self.validator.check_transport(
                method, request.method, content_type, json_keys
            ):
                self.violation("request", method, problem)
        headers: dict[str, str] = {}
        fault = self.faults.take(method, str(args.get("channel") or "") or None)
        stall = None
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            fault = None
        elif fault is not None and fault.kind == "stall":
            stall, fault = fault.then, None
        elif fault is not None and fault.kind == "hold" and fault.then is not None:
            await fault.then()
            fault = None
        body: dict[str, Any]
        if fault is not None and fault.kind == "ratelimit":
            record.status, record.retry_after = 429, fault.retry_after
            headers["Retry-After"] = str(fault.retry_after)
            body = {"ok": False, "error": "ratelimited"}
        elif fault is not None and fault.kind == "status":
            record.status = fault.status
            return web.Response(status=fault.status, text="upstream error")
        else:
            who = self.identity(token)
            if isinstance(who, str):
                body = {"ok": False, "error": who}
            elif fault is not None and fault.kind == "error":
                body = {"ok": False, "error": fault.error}
            elif (
                method == "chat.postMessage"
                and (wait := self.post_limit.retry_after(self._conversation(who, args)))
            ) or (wait := self.tier_limit.retry_after(method, who.team_id)):
                record.status, record.retry_after = 429, wait
                headers["Retry-After"] = str(wait)
                body = {"ok": False, "error": "ratelimited"}
            elif refusal := self._block_kit(method, args):
                body = {"ok": False, "error": refusal}
            else:
                headers["x-oauth-scopes"] = who.scopes
                try:
                    body = self.api.call(Call(method, args, who))
                except ApiError as err:
                    body = {"ok": False, "error": err.code, **err.extra}
                    if err.code == "missing_scope" and self.scopes_are_steward_s:
                        self.violation(
                            "scope",
                            method,
                            f"needs {err.extra['needed']}, which Steward's manifest lacks",
                        )
                for defect in self.api.defects:
                    self.violation("request", method, defect)
                self.api.defects.clear()
        record.body = body
        if self.validator is not None:
            for problem in self.validator.check_response(method, body):
                self.violation("response", method, problem)
        if stall is not None:
            # Held by the test, not by Steward: settling does not wait for it meanwhile.
            self.tracker.in_flight -= 1
            await self.tracker.changed()
            try:
                await stall()
            finally:
                self.tracker.in_flight += 1
        return web.json_response(body, status=record.status, headers=headers)

    def _conversation(self, who: Identity, args: dict[str, Any]) -> str:
        """The conversation a chat.postMessage goes to, however it is named (its id, its name,
        or a user id for the app's DM with them): its posts are counted together."""
        target = str(args.get("channel", ""))
        if target in self.world.users:
            return "im:" + ",".join(sorted({who.user_id, target}))
        found = self.world.channels.get(target)
        if found is not None and found.is_im:
            return "im:" + ",".join(sorted(found.members))
        if found is None:
            found = next(
                (
                    c
                    for c in self.world.channels.values()
                    if c.team_id == who.team_id and not c.is_im and c.name == target.lstrip("#")
                ),
                None,
            )
        return found.id if found is not None else target

    def _block_kit(self, method: str, args: dict[str, Any]) -> str | None:
        """Check the Block Kit a call carries; the error code Slack answers, or None."""
        if self.validator is None:
            return None
        if method in _MESSAGE_METHODS:
            problems = blockkit.check_blocks(_structured(args.get("blocks")), "message")
            code = "invalid_blocks"
        elif method in _VIEW_METHODS:
            problems = blockkit.check_view(_structured(args.get("view")))
            code = "invalid_arguments"
        else:
            return None
        for problem in problems:
            self.violation("blocks", method, problem)
        return code if problems else None

    async def _no_prefix_route(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.violation(
            "request", method, "called without the /api/ prefix: base_url must end in /api/"
        )
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    async def _upload_route(self, request: web.Request) -> web.StreamResponse:
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="file not found")
        data = await request.read()
        stored.data = data
        await self.tracker.changed()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _use_ticket(self, ticket: str) -> bool:
        if ticket in self.api.tickets:
            self.api.tickets.discard(ticket)
            return True
        return False

    # ------------------------------------------------------------------ response_url
    def new_response_url(self, target: ResponseTarget) -> str:
        """Register a response_url (5 uses) that posts into `target`."""
        rid = f"R{len(self.response_urls) + 1:05d}{uuid.uuid4().hex[:12]}"
        self.response_urls[rid] = target
        return f"{self.base_url}/response/{rid}"

    async def _response_route(self, request: web.Request) -> web.StreamResponse:
        self.tracker.in_flight += 1
        try:
            return await self._respond(request)
        finally:
            self.tracker.in_flight -= 1
            await self.tracker.changed()

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        rid = request.match_info["rid"]
        target = self.response_urls.get(rid)
        # "You can use a response_url five times within 30 minutes" (docs.slack.dev/
        # interactivity/handling-user-interaction, "Message responses").
        if target is None:
            return web.Response(status=404, text="no_such_url")
        if time.monotonic() - target.issued > self.response_url_ttl:
            return web.Response(status=404, text="expired_url")
        if target.uses >= 5:
            return web.Response(status=404, text="used_url")
        target.uses += 1
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if self.validator is not None:
            for problem in answers.check_response_url(body):
                self.violation("response_url", "response_url", problem)
        self.apply_response(target, body, via="response_url")
        return web.Response(text="ok")

    def apply_response(self, target: ResponseTarget, body: dict[str, Any], *, via: str) -> None:
        """Do what an ack body or response_url post asks: ephemeral, in_channel, replace, delete."""
        text = str(body.get("text", ""))
        blocks = body.get("blocks")
        ch = self.world.channels[target.channel]
        team = self.world.teams[target.team_id]
        bot = self.world.tokens[team.bot_token]
        if body.get("delete_original") or body.get("replace_original"):
            self._edit_source(target, body)
            return
        in_channel = body.get("response_type") == "in_channel"
        if target.outcome is not None:
            target.outcome.shown.append(Shown(text, blocks, not in_channel, via, dict(body)))
        if in_channel:
            args = {
                k: v for k, v in body.items() if k in {"text", "blocks", "attachments", "thread_ts"}
            }
            self.api.post(Call("response_url", args, bot), ch, via=via)
            for defect in self.api.defects:
                self.violation("response_url", "response_url", defect)
            self.api.defects.clear()
            return
        pings = self.world.compute_pings(ch, bot.user_id, text, blocks, body.get("attachments"))
        self.world.ephemerals.append(
            Ephemeral(
                ch.id,
                target.user,
                text,
                blocks,
                self.world.next_ts(),
                via,
                body.get("thread_ts"),
                pings,
            )
        )

    def _edit_source(self, target: ResponseTarget, body: dict[str, Any]) -> None:
        if target.source_ts is None:
            return
        if target.source_ephemeral:
            found = next((e for e in self.world.ephemerals if e.ts == target.source_ts), None)
            if found is None:
                return
            if body.get("delete_original"):
                self.world.ephemerals.remove(found)
            else:
                found.text, found.blocks = str(body.get("text", "")), body.get("blocks")
            return
        msg = self.world.find_message(target.channel, target.source_ts)
        if msg is None:
            return
        if body.get("delete_original"):
            self.world.messages[target.channel].remove(msg)
            self.world.deleted.append(msg)
            return
        msg.data["text"] = str(body.get("text", ""))
        if body.get("blocks") is not None:
            msg.data["blocks"] = body["blocks"]
        else:
            msg.data.pop("blocks", None)
        ch = self.world.channels[target.channel]
        msg.pings = msg.pings.union(
            self.world.compute_pings(
                ch, msg.user, msg.text, body.get("blocks"), body.get("attachments")
            )
        )

    # ------------------------------------------------------------------ delivery
    def next_event_id(self) -> str:
        """A fresh Ev… id."""
        self._event_seq += 1
        return f"Ev{self._event_seq:010d}"

    async def deliver(
        self, kind: str, payload: dict[str, Any], *, delivery: Delivery | None = None
    ) -> Delivery:
        """Deliver over HTTP (after use_http) or Socket Mode and wait for the outcome."""
        delivery = delivery or Delivery(kind, payload)
        self.deliveries.append(delivery)
        if kind == "event":
            self._check_event(payload)
            if not self._may_receive(payload):
                return delivery  # Slack sends no event the app lacks the scope for
        if self.http.url is None and not self.socket_mode:
            return delivery  # no app attached yet: recorded and validated, not sent
        self.tracker.in_flight += 1
        try:
            if self.http.url is not None:
                await self.http.deliver(delivery)
            else:
                await self.socket.deliver(delivery)
        finally:
            self.tracker.in_flight -= 1
            await self.tracker.changed()
        self._check_answer(delivery)
        return delivery

    def _may_receive(self, envelope: dict[str, Any]) -> bool:
        """Whether the installed app holds the scope Slack requires to send it this event."""
        team = self.world.teams.get(str(envelope.get("team_id")))
        if team is None:
            return True

        def kind_of(channel_id: str) -> str | None:
            found = self.world.channels.get(channel_id)
            return found.channel_type if found is not None else None

        needed = scopes.event_scope(envelope.get("event") or {}, kind_of)
        granted = {s.strip() for s in self.world.tokens[team.bot_token].scopes.split(",")}
        return needed is None or needed in granted

    def _check_answer(self, delivery: Delivery) -> None:
        """Check the app's acknowledgement: the Socket Mode frame and the body Slack reads."""
        answer = delivery.answer
        if self.validator is None or answer is None:
            return
        subject = f"{delivery.kind} ack"
        if answer.transport == "socket":
            for problem in answers.check_socket_ack(answer.ack, accepts_response(delivery)):
                self.violation("ack", subject, problem)
        for problem in answers.check_ack(delivery.kind, delivery.payload, delivery.ack_body()):
            self.violation("ack", subject, problem)

    def emit(self, team_id: str, event: dict[str, Any]) -> None:
        """Deliver an event caused by a Web API call in the background (settle() waits for it)."""
        envelope = event_callback(self.world.teams[team_id], event, self.next_event_id())
        self.tracker.spawn(self.deliver("event", envelope))

    async def deliver_event(self, team_id: str, event: dict[str, Any]) -> Delivery:
        """Deliver one event now and wait until it is acked (or given up on)."""
        return await self.deliver(
            "event", event_callback(self.world.teams[team_id], event, self.next_event_id())
        )

    # ------------------------------------------------------------------ waiting
    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy, re-checking on every state change; never polls."""
        # The timeout runs in this task: with ``asyncio.wait_for`` the condition's lock was taken
        # here but released and retaken by wait_for's inner task, and a cancelled caller (a timed
        # out join storm at shutdown) could leave it held by a finished task, hanging every
        # other waiter, which retakes it even when cancelled.
        async with asyncio.timeout(within), self.tracker.cond:
            return await self.tracker.cond.wait_for(predicate)

    async def settle(self, within: float = 10.0) -> None:
        """Wait until no delivery, retry, Web API call or response_url post is in flight."""
        await self.wait_for(lambda: self.tracker.in_flight == 0, within)
