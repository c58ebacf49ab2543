"""The Slack adapter: a slack-bolt AsyncApp whose events and interactions reach the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import commands, history
from bot.adapters.slack.home import home_view
from bot.adapters.slack.port import SlackPort, to_member
from bot.adapters.slack.responder import Respond, ResponseUrl, SlackResponder
from bot.adapters.slack.text import unescape
from bot.config import Config, PlatformProblem
from bot.core.commands import ParamKind
from bot.core.dispatch import Dispatcher, Invocation, Press
from bot.core.errors import UserError, new_error_id, render_error
from bot.core.events import (
    Event,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    MessageDeleted,
    MessageEdited,
    PlatformReady,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef
from bot.core.members import Member
from bot.core.message import Message, parse_component_id
from bot.core.registry import Registry

log = logging.getLogger("steward.slack")
_STEWARD_ID = re.compile(r"^steward:")
_LINK_ID = re.compile(r"^steward-link:")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
SEEN_LIMIT = 20_000
DRAIN_SECONDS = 10.0
LISTENED_EVENTS = (
    "message",
    "team_join",
    "user_change",
    "reaction_added",
    "reaction_removed",
    "app_home_opened",
    "member_joined_channel",
    "member_left_channel",
    "subteam_members_changed",
    "subteam_updated",
)
"""The Events API events the adapter subscribes to (the manifest must list them all)."""


class _Seen:
    """A bounded memory of ids already handled (event ids, request signatures)."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._limit:
            self._ids.popitem(last=False)
        return True


def _ts_time(ts: str | None) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC)
    except ValueError:
        return datetime.now(UTC)


class SlackAdapter:
    """Owns the Bolt app (Socket Mode or HTTP) and the SlackPort; started and stopped by the App."""

    def __init__(
        self, config: Config, dispatcher: Dispatcher, registry: Registry, *, http_host: str = ""
    ) -> None:
        assert config.slack_bot_token is not None
        self.config = config
        self.dispatcher = dispatcher
        self.registry = registry
        self.http_host = http_host or ("127.0.0.1" if config.slack_mode == "socket" else "0.0.0.0")
        self.client = AsyncWebClient(
            token=config.slack_bot_token.get_secret_value(), base_url=config.slack_api_base
        )
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
        secret = config.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else None,
            # Steward verifies every HTTP request itself (``_verified``, stricter, before Bolt
            # sees it). One check, not two: a second one in Bolt would hide a broken first one
            # from the tests, and Socket Mode has nothing to sign.
            request_verification_enabled=False,
            process_before_response=False,
        )
        self.port = SlackPort(self.client)
        dispatcher.add_port(self.port)
        self.team_id = ""
        self.bot_user_id = ""
        self._events = _Seen()
        self._requests = _Seen()
        self._running: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        self._socket: AsyncSocketModeHandler | None = None
        self._hellos = 0
        self._runner: web.AppRunner | None = None
        self.http_port = config.slack_http_port
        self._register()

    # -- wiring ------------------------------------------------------------------------------

    def _tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Count the listener as work in flight, and hold its task until it ends.

        Bolt acks first and runs the listener in a task it keeps no reference to; holding it
        here keeps it from being garbage-collected mid-flight and lets ``stop`` drain it.
        (Bolt reads the wrapped signature to decide which arguments to pass.)
        """

        @functools.wraps(listener)
        async def run(**kwargs: Any) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                async with self.dispatcher.activity.track():
                    await listener(**kwargs)
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    def _register(self) -> None:
        app = self.app
        app.middleware(self._dedupe)
        for feature in self.registry.features:
            if self.registry.commands(feature.name):
                app.command(f"/{feature.name}")(self._tracked(self._slash))
        app.action(_STEWARD_ID)(self._tracked(self._action))
        app.view(_STEWARD_ID)(self._tracked(self._view))
        app.action(_LINK_ID)(self._ack_only)
        listeners: dict[str, Callable[..., Awaitable[None]]] = {
            "message": self._message,
            "team_join": self._team_join,
            "user_change": self._user_change,
            "reaction_added": self._reaction,
            "reaction_removed": self._reaction,
            "app_home_opened": self._home,
            "member_joined_channel": self._ignore,
            "member_left_channel": self._ignore,
            "subteam_members_changed": self._groups_changed,
            "subteam_updated": self._groups_changed,
        }
        assert set(listeners) == set(LISTENED_EVENTS)
        for event, listener in listeners.items():
            app.event(event)(self._tracked(listener))

    async def _dedupe(
        self, body: dict[str, Any], next: Any, logger: logging.Logger
    ) -> BoltResponse | None:
        """Redelivered events (Slack retries, Socket Mode redelivery) are handled once."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not self._events.first_time(event_id):
            return BoltResponse(status=200, body="")
        result: BoltResponse | None = await next()
        return result

    def _community(self, team_id: str | None) -> CommunityRef:
        return CommunityRef("slack", team_id or self.team_id)

    async def member(self, community: CommunityRef, user_id: str) -> Member:
        """A member snapshot with their user groups (cached users.info and usergroups.list)."""
        found = await self.port.member(UserRef(community, user_id))
        if found is None:
            raise UserError("I can't find that member in this workspace.")
        return found

    async def _publish(self, event: Event) -> None:
        try:
            await self.dispatcher.publish(event)
        except Exception:
            log.exception("publishing %s failed", type(event).__name__)

    # -- commands ----------------------------------------------------------------------------

    def _respond(self, body: dict[str, Any]) -> Respond | None:
        """Answers through the interaction's response_url, on the shared session."""
        url = body.get("response_url")
        if not isinstance(url, str) or not url:
            return None
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return ResponseUrl(url, self._session)

    async def _slash(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        feature = str(body.get("command", "/")).lstrip("/")
        community = self._community(body.get("team_id"))
        channel = ChannelRef(community, str(body.get("channel_id", "")))
        user_id = str(body.get("user_id", ""))
        responder = SlackResponder(
            self.port.for_feature(feature),
            channel=channel,
            user_id=user_id,
            respond=self._respond(body),
            trigger_id=body.get("trigger_id"),
        )
        try:
            actor = await self.member(community, user_id)
            text = str(body.get("text", "")).strip()
            specs = self.registry.commands(feature)
            tokens = commands.tokenize(text)
            found = commands.match(specs, tokens) if tokens else None
            if found is None:
                # A feature's own `help` command wins; otherwise help is the usage listing.
                listing = commands.usage(specs, actor.level) or "There is nothing you can run here."
                if not tokens or tokens[0].value.lower() == "help":
                    await responder.send(Message(title=f"/{feature}", text=listing), ephemeral=True)
                    return
                raise UserError(
                    f"There's no `/{feature} {tokens[0].value[:32]}`. You can run:\n{listing}"
                )
            spec, used = found
            args = commands.parse_args(spec, text, tokens[used:], community)
            for param in spec.params:
                if param.kind is ParamKind.MEMBER and isinstance(args.get(param.name), UserRef):
                    args[param.name] = await self.member(community, args[param.name].id)
            await self.dispatcher.invoke(
                Invocation(
                    spec=spec,
                    community=community,
                    actor=actor,
                    channel=channel,
                    args=args,
                    responder=responder,
                )
            )
        except Exception as exc:
            await self._answer_failure(responder, exc, f"/{feature}")

    async def _answer_failure(self, responder: SlackResponder, exc: Exception, what: str) -> None:
        """Tell the member what went wrong; a bug is logged with an id and never shown."""
        error_id = ""
        if not isinstance(exc, UserError):
            error_id = new_error_id()
            log.error("%s failed before its handler [error %s]", what, error_id, exc_info=exc)
        try:
            await responder.send(render_error(exc, error_id=error_id), ephemeral=True)
        except Exception:
            log.exception("answering %s failed", what)

    async def _action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        parsed = parse_component_id(str(action.get("action_id", "")))
        if parsed is None:
            return
        values: tuple[str, ...] = ()
        if "selected_options" in action:
            values = tuple(str(o["value"]) for o in action["selected_options"] or [])
        elif action.get("selected_option"):
            values = (str(action["selected_option"]["value"]),)
        community = self._community((body.get("team") or {}).get("id"))
        channel_id = str((body.get("channel") or {}).get("id", ""))
        container = body.get("container") or {}
        message_ts = container.get("message_ts")
        thread = container.get("thread_ts")
        channel = ChannelRef(community, channel_id, thread)
        await self._press(
            parsed,
            community=community,
            channel=channel,
            user_id=str((body.get("user") or {}).get("id", "")),
            values=values,
            fields={},
            message=MessageRef(channel, str(message_ts)) if message_ts and channel_id else None,
            respond=self._respond(body),
            trigger_id=body.get("trigger_id"),
        )

    async def _view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        view = body.get("view") or {}
        parsed = parse_component_id(str(view.get("callback_id", "")))
        if parsed is None:
            return
        fields: dict[str, str] = {}
        for block in (view.get("state") or {}).get("values", {}).values():
            for action_id, state in block.items():
                fields[str(action_id)] = str(state.get("value") or "")
        community = self._community((body.get("team") or {}).get("id"))
        channel_id, _, thread = str(view.get("private_metadata", "")).partition(":")
        user_id = str((body.get("user") or {}).get("id", ""))
        if not channel_id:
            try:
                opened = await self.client.conversations_open(users=user_id)
            except Exception:
                log.exception("opening a DM for a form's answer failed")
                return
            channel_id = str(opened["channel"]["id"])
        await self._press(
            parsed,
            community=community,
            channel=ChannelRef(community, channel_id, thread or None),
            user_id=user_id,
            values=(),
            fields=fields,
            message=None,
            respond=None,
            trigger_id=body.get("trigger_id"),
        )

    async def _press(
        self,
        parsed: tuple[str, str, str],
        *,
        community: CommunityRef,
        channel: ChannelRef,
        user_id: str,
        values: tuple[str, ...],
        fields: dict[str, str],
        message: MessageRef | None,
        respond: Respond | None,
        trigger_id: str | None,
    ) -> None:
        feature, action, value = parsed
        responder = SlackResponder(
            self.port.for_feature(feature),
            channel=channel,
            user_id=user_id,
            respond=respond,
            trigger_id=trigger_id,
        )
        try:
            await self.dispatcher.press(
                Press(
                    community=community,
                    actor=await self.member(community, user_id),
                    channel=channel,
                    feature=feature,
                    action=action,
                    value=value,
                    values=values,
                    fields=fields,
                    message=message,
                    responder=responder,
                )
            )
        except Exception as exc:
            await self._answer_failure(responder, exc, f"{feature}:{action}")

    # -- events ------------------------------------------------------------------------------

    async def _message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if event.get("channel_type") == "im":
            return
        community = self._community(body.get("team_id"))
        channel_id = str(event.get("channel", ""))
        if subtype == "message_changed":
            changed = event.get("message") or {}
            thread = (
                changed.get("thread_ts") if changed.get("thread_ts") != changed.get("ts") else None
            )
            ref = MessageRef(ChannelRef(community, channel_id, thread), str(changed.get("ts")))
            author = changed.get("user")
            await self._publish(
                MessageEdited(
                    community=community,
                    at=_ts_time(event.get("event_ts")),
                    message=ref,
                    author=UserRef(community, str(author)) if author else None,
                    text=unescape(str(changed.get("text", ""))),
                )
            )
            return
        if subtype == "message_deleted":
            await self._publish(
                MessageDeleted(
                    community=community,
                    at=_ts_time(event.get("event_ts")),
                    message=MessageRef(
                        ChannelRef(community, channel_id), str(event.get("deleted_ts"))
                    ),
                )
            )
            return
        if event.get("ts") is None:
            return
        posted = await history.to_posted(self.port, community, channel_id, event)
        if posted is not None:
            await self._publish(posted)

    async def _team_join(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        community = self._community(body.get("team_id"))
        self.port.forget(str(user.get("id")))
        await self._publish(
            MemberJoined(
                community=community,
                at=_ts_time(body.get("event_time")),
                member=to_member(user, community),
            )
        )

    async def _user_change(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        community = self._community(body.get("team_id"))
        self.port.forget(str(user.get("id")))
        at = _ts_time(body.get("event_time"))
        if user.get("deleted"):
            await self._publish(
                MemberLeft(community=community, at=at, user=UserRef(community, str(user["id"])))
            )
        else:
            await self._publish(
                MemberUpdated(
                    community=community,
                    at=at,
                    member=to_member(user, community, await self.port.groups_of(str(user["id"]))),
                )
            )

    async def _reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        community = self._community(body.get("team_id"))
        kind = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
        await self._publish(
            kind(
                community=community,
                at=_ts_time(event.get("event_ts")),
                message=MessageRef(
                    ChannelRef(community, str(item.get("channel"))), str(item.get("ts"))
                ),
                user=UserRef(community, str(event.get("user"))),
                emoji=str(event.get("reaction", "")),
            )
        )

    async def _home(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return
        community = self._community(body.get("team_id"))
        user_id = str(event.get("user"))
        try:
            member = await self.member(community, user_id)
            await self.client.views_publish(user_id=user_id, view=home_view(member, self.registry))
        except Exception:
            log.exception("publishing App Home failed")

    async def _ignore(self) -> None:
        return None

    async def _groups_changed(self) -> None:
        """Someone joined or left a user group: roles (and moderators) are read afresh."""
        self.port.forget_groups()

    async def _ack_only(self, ack: AsyncAck) -> None:
        """A link button opens its URL in the client; Slack still sends the click: ack it."""
        await ack()

    # -- HTTP mode ---------------------------------------------------------------------------

    def _verified(self, raw: bytes, timestamp: str, signature: str) -> str | None:
        """The body as text when the request is signed by Slack and fresh; else None.

        The header formats are checked first, so nothing malformed reaches a parser (Bolt
        answers 500 to a non-numeric timestamp) and Bolt never logs a forged body.
        """
        if self._verifier is None:
            return None
        if not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None  # Slack signs UTF-8; anything else is not from Slack
        return text if self._verifier.is_valid(text, timestamp, signature) else None

    async def _http(self, request: web.Request) -> web.Response:
        """Verify, de-duplicate and dispatch one signed request from Slack."""
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        text = self._verified(raw, timestamp, signature)
        if text is None:
            return web.Response(status=401, text="invalid request")
        # The signature proves origin, not uniqueness: an exact replay is acked, not run again.
        if not self._requests.first_time(f"{timestamp}:{signature}"):
            return web.Response(status=200, text="")
        headers: dict[str, str | Sequence[str]] = {
            key.lower(): request.headers.getall(key) for key in request.headers
        }
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        content_type = request.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in content_type and "payload" in text:
            form = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" not in form:
                # Bolt takes any form body containing the word "payload" for interactivity;
                # a slash command such as "/desk echo the payload" would be lost.
                bolt_request.body = form
                bolt_request.context = build_async_context(AsyncBoltContext({}), form)
        response = await self.app.async_dispatch(bolt_request)
        return web.Response(
            status=response.status,
            body=response.body,
            headers={k: v[0] for k, v in response.headers.items() if v and k != "content-length"},
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then connect over Socket Mode or start the HTTP endpoint."""
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            raise PlatformProblem(
                f"Slack refused STEWARD_SLACK_BOT_TOKEN ({exc.response.get('error')}): copy the "
                "Bot User OAuth Token again (OAuth & Permissions). `steward doctor` checks it."
            ) from None
        except (aiohttp.ClientError, OSError):
            raise PlatformProblem(
                f"cannot reach Slack at {self.config.slack_api_base}: check this machine's "
                "network and firewall."
            ) from None
        self.team_id = str(identity["team_id"])
        self.bot_user_id = str(identity["user_id"])
        if self.config.slack_mode == "socket":
            assert self.config.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.app, app_token=self.config.slack_app_token.get_secret_value()
            )
            self._socket.client.message_listeners.append(self._hello)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            self._ready_soon()
            return
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._http)
        self._runner = web.AppRunner(
            web_app, handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.http_host, self.http_port)
        await site.start()
        if self.http_port == 0:
            self.http_port = int(self._runner.addresses[0][1])
        self._ready_soon()

    def _ready_soon(self) -> None:
        """Publish PlatformReady for the workspace in the background (features catch up)."""
        ready = PlatformReady(community=self._community(None), at=datetime.now(UTC))
        task = asyncio.create_task(self._publish(ready), name="steward-slack-ready")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _hello(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        """Socket Mode says hello on every connection: after the first one, it is a reconnect."""
        if message.get("type") == "hello":
            self._hellos += 1
            if self._hellos > 1:
                self._ready_soon()

    async def stop(self) -> None:
        """Stop taking work, then let acked work finish (it was promised to Slack)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
