"""The Slack adapter: a slack-bolt AsyncApp whose events and interactions reach the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import html
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import commands
from bot.adapters.slack.history import POSTED_SUBTYPES
from bot.adapters.slack.home import home_view
from bot.adapters.slack.port import SlackPort
from bot.adapters.slack.responder import Respond, ResponseUrl, SlackResponder
from bot.adapters.slack.shapes import maybe_text, obj, objs, text, ts_time
from bot.adapters.slack.signed import Seen, SignedRequests
from bot.adapters.slack.translate import Translator
from bot.config import Config, PlatformProblem
from bot.core.commands import ParamKind
from bot.core.dispatch import Dispatcher, Invocation, Press
from bot.core.errors import UserError, render_error
from bot.core.events import (
    Event,
    PlatformReady,
)
from bot.core.handled import HandledIds
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef
from bot.core.inbox import Inbox, Leftover
from bot.core.intake import Lane
from bot.core.members import Member
from bot.core.message import Message, parse_component_id
from bot.core.pacing import Limits
from bot.core.registry import Registry
from bot.core.transient import database_trouble, describe, log_failure

log = logging.getLogger("steward.slack")
# slack_sdk logs every request and response body at DEBUG: private replies (a webhook's secret,
# shown once) and members' messages would land in the log with STEWARD_LOG_LEVEL=DEBUG.
logging.getLogger("slack_sdk").setLevel(logging.INFO)
_STEWARD_ID = re.compile(r"^steward:")
_LINK_ID = re.compile(r"^steward-link:")
DRAIN_SECONDS = 10.0
STORE_WITHIN = 1.0
"""Seconds an event's inbox row may take before its ack is withheld (Slack waits 3 s)."""
STORE_WITHIN_LAST = 2.2
"""The same on Slack's last retry, after which it sends the event no more."""
LAST_RETRY = 3
"""Slack retries an unacked event 3 times (``retry_attempt`` 1 to 3)."""
REPLAY_WAIT = 60.0
"""Seconds a leftover event may take before the next one is handled regardless."""
ADOPT_EVERY = 60.0
"""Seconds between looks for events a stopped process left (several processes on PostgreSQL)."""
REFUSED_REPORT_EVERY = 60.0
"""Seconds at least between two warnings that acks are withheld."""
_NO_EFFECTS = frozenset({"member_joined_channel", "member_left_channel"})
"""Events Steward listens to only to acknowledge them (``_ignore``)."""
_CHANGES = frozenset({"message_changed", "message_deleted"})
"""Message subtypes the translator turns into an edit or a deletion (the posts are
``POSTED_SUBTYPES``; every other subtype it drops)."""


def _has_effects(body: dict[str, Any]) -> bool:
    """Whether handling this event can change anything: not one Steward ignores, nor a
    message in a DM, nor a message of a subtype that is no post, edit or deletion (a
    ``channel_join``: the translator drops those). A join brings several such events (the
    newcomer brought into #general and onboarding's channels, each with its ``channel_join``
    message, Steward's own DMs): each cost an inbox row written before its ack (on SQLite,
    a turn at the one writer a join storm's welcomes queue for), a read transaction to ask
    whether it was handled before, and a row to note it."""
    event = body.get("event")
    if not isinstance(event, dict):
        return True
    kind = event.get("type")
    if kind in _NO_EFFECTS:
        return False
    if kind != "message":
        return True
    subtype = event.get("subtype")
    if not (subtype is None or isinstance(subtype, str)):
        return False  # no subtype the translator reads (it drops the message)
    return event.get("channel_type") != "im" and (subtype in POSTED_SUBTYPES or subtype in _CHANGES)


_EVENT_ID: contextvars.ContextVar[str] = contextvars.ContextVar("slack_event_id", default="")
"""The Slack event a listener task is handling (its id, noted as handled when it is done)."""
_STORED: contextvars.ContextVar[bool] = contextvars.ContextVar("slack_stored", default=False)
"""Set while an event read back from the inbox is dispatched (stored already: no ack to give)."""
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


class FreshestFirst(aiohttp.TCPConnector):
    """A connector that reuses the connection released last, so those a burst opened go idle
    and close after the keep-alive (15 s) once the burst is over.

    aiohttp (3.12 and later) reuses the connection released first: under steady traffic every
    pooled connection is used in turn and none is ever idle for 15 s, so the pool stays as big
    as the busiest moment made it for as long as the traffic lasts. In the fault soak, the
    catch-up after a database outage opened 10 connections to Slack, and all 10 stayed open
    until the workload stopped."""

    def _release(self, key: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
        super()._release(key, protocol, *args, **kwargs)
        # aiohttp's internals, read defensively: where they differ, the order is left alone.
        pools = getattr(self, "_conns", None)
        kept = pools.get(key) if isinstance(pools, dict) else None
        if isinstance(kept, deque) and kept and kept[-1][0] is protocol:
            kept.rotate(1)  # the one just released is taken next (``_get`` takes the left end)


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
        self.port = SlackPort(self.client, limits=Limits(config.platform_speed))
        dispatcher.add_port(self.port)
        self.team_id = ""
        self.bot_user_id = ""
        self._events = Seen()
        self.handled = HandledIds(dispatcher.db.reads, dispatcher.clock)
        """Event ids handled, in the database: a redelivery after a restart runs nothing."""
        self.inbox = Inbox(
            dispatcher.db.uow,
            dispatcher.clock,
            dispatcher.activity,
            self._written,
            self._trouble,
            solo=dispatcher.db.dialect == "sqlite",
            journals=config.spill_directory,
        )
        """Events stored before their ack, until handled: an acked event survives a kill."""
        self._replayed = asyncio.Event()
        self._replayed.set()  # cleared while ``start`` replays
        """Set once the events a stopped process left in the inbox are handled: new events'
        listeners wait for it (the old ones first, in the order they came)."""
        self._ends: dict[str, asyncio.Future[None]] = {}
        self._refused_said = -REFUSED_REPORT_EVERY
        self._unjournaled_said = -REFUSED_REPORT_EVERY
        self._running: set[asyncio.Task[Any]] = set()
        self._adopting: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.signed = SignedRequests(self.app, secret.get_secret_value() if secret else None)
        self.translate = Translator(self.port, self._community, self._publish)
        self._socket: AsyncSocketModeHandler | None = None
        self._hellos = 0
        self._crowded = False
        """Slack refused a connection as one too many, and no hello came since."""
        self._runner: web.AppRunner | None = None
        self.http_port = config.slack_http_port
        self.extra_routes: list[web.RouteDef] = []
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
                key = _EVENT_ID.get()
                async with self.dispatcher.activity.track():
                    if key and not _STORED.get():
                        await self._replayed.wait()  # what a stopped process left goes first
                    if key and await self._handled_before(key):
                        self.inbox.done(key)  # handled before a restart
                        return
                    await listener(**kwargs)
                if key:  # handled (or its failure kept): its row goes once what it wrote is in
                    self.inbox.done(key)
            finally:
                if task is not None:
                    self._running.discard(task)
                end = self._ends.pop(_EVENT_ID.get(), None)
                if end is not None and not end.done():
                    end.set_result(None)

        return run

    async def _handled_before(self, key: str) -> bool:
        """Whether the event was handled before: as its store found, in the same transaction
        (a join storm's events each cost a read transaction less), else looked up."""
        known = self.inbox.handled_before(key)
        return known if known is not None else await self.handled.handled(key)

    def _register(self) -> None:
        app = self.app
        app.middleware(self._dedupe)
        for feature in self.registry.features:
            if self.registry.commands(feature.name):
                app.command(f"/{feature.name}")(self._tracked(self._slash))
        app.action(_STEWARD_ID)(self._tracked(self._action))
        app.view(_STEWARD_ID)(self._tracked(self._view))
        app.shortcut(_STEWARD_ID)(self._tracked(self._shortcut))
        app.action(_LINK_ID)(self._ack_only)
        listeners: dict[str, Callable[..., Awaitable[None]]] = {
            "message": self.translate.message,
            "team_join": self.translate.team_join,
            "user_change": self.translate.user_change,
            "reaction_added": self.translate.reaction,
            "reaction_removed": self.translate.reaction,
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
        self, body: dict[str, Any], req: AsyncBoltRequest, next: Any, logger: logging.Logger
    ) -> BoltResponse | None:
        """Store an event before it is acked; handle redeliveries (Slack retries, Socket Mode
        redelivery) once.

        The event's inbox row is committed before Bolt acks it (``bot.core.inbox``); when the
        database does not take it within ``STORE_WITHIN`` seconds the answer is a 503, no ack,
        and Slack sends it again. The store goes on meanwhile; once it commits the event is
        handled (and the redelivery finds it stored, and is acked); Slack's last retry gets a
        longer bound. Only while the database is away (the dispatcher's gate found it so, not
        merely slow) is an event acked before its row is written: it is written to this
        process's journal first (``bot.core.spill``, fsynced), its listeners wait for the
        database, and its row is written when it answers. An event the journal does not take
        (a full disk) is not acked.
        """
        event_id = body.get("event_id")
        key = f"slack:{event_id}" if isinstance(event_id, str) else ""
        if key and _STORED.get():  # read back from the inbox: stored, claimed, no ack to give
            _EVENT_ID.set(key)
            result: BoltResponse | None = await next()
            return result
        if key and not _has_effects(body):
            # Nothing comes of it (``_ignore``, or the translator drops it): acked here, with no
            # row, no lookup, no id to note, and without Bolt matching it against every
            # listener (a join brings five such events, and a storm hundreds a second).
            return BoltResponse(status=200, body="")
        if key:
            if self._events.seen(key):
                return BoltResponse(status=200, body="")  # stored, and handled here
            retry = _retry_number(req)
            last = retry >= LAST_RETRY
            team = str(body.get("team_id") or self.team_id)
            within = STORE_WITHIN_LAST if last else STORE_WITHIN
            if self.dispatcher.database.away:
                within = 0.0  # known away: no use waiting (the store goes on all the same)
            stored = await self.inbox.store(key, team, body, within)
            if stored is None:
                if not self.dispatcher.database.away:
                    self._refused(retry)
                    self.inbox.stored_late(key, lambda: self._handle_stored(key, body))
                    return BoltResponse(status=503, body="")
                # Away (the gate's probe failed), not merely slow: journaled (fsynced) before
                # the ack, handled when the database is back; its row is written then too.
                try:
                    await self.inbox.spill(key, team, body)
                except OSError as exc:
                    self._unjournaled(exc)
                    self.inbox.stored_late(key, lambda: self._handle_stored(key, body))
                    return BoltResponse(status=503, body="")
            if stored is False:
                # Its row is there already and another live process holds it (Slack sent the
                # event again while that one's store was slow): stored, so acked; its owner
                # handles it. A row whose owner stopped was taken over (True): handled here.
                return BoltResponse(status=200, body="")
            if not self._events.first_time(key):
                return BoltResponse(status=200, body="")  # handled here since it was stored
        # Bolt runs the listener after the middleware, in a task started from this request's
        # own context (one per request), which inherits the id.
        _EVENT_ID.set(key)
        result = await next()
        if key and result is not None and result.status == 404:
            self.inbox.done(key)  # no listener for it: nothing will clear its row
        return result

    async def _trouble(self, exc: BaseException) -> bool:
        """A store failed: on the database's own trouble, wait for the gate's probe (its
        ``away`` tells the next deliveries whether the database is away or merely slow);
        True when it had to wait."""
        if not database_trouble(exc):
            return False
        return await self.dispatcher.database.wait_until_up()

    def _refused(self, retry: int) -> None:
        """Say (at most once a minute) that acks are withheld while the database is slow."""
        now = asyncio.get_running_loop().time()
        if now - self._refused_said >= REFUSED_REPORT_EVERY:
            self._refused_said = now
            log.warning(
                "the database did not store a Slack event within %.0f s (try %d); it is not "
                "acknowledged, so Slack sends it again (%d so far)",
                STORE_WITHIN,
                retry + 1,
                self.inbox.refused,
            )

    def _unjournaled(self, exc: OSError) -> None:
        """Say (at most once a minute) that the journal refused events, so acks are withheld."""
        now = asyncio.get_running_loop().time()
        if now - self._unjournaled_said >= REFUSED_REPORT_EVERY:
            self._unjournaled_said = now
            log.warning(
                "the database is away and the journal in %s does not take Slack events (%s); "
                "they are not acknowledged, so Slack sends them again",
                self.config.spill_directory,
                exc.strerror or type(exc).__name__,
            )

    def _handle_stored(self, key: str, body: dict[str, Any]) -> None:
        """An event stored after its ack was withheld: handle it now (once)."""
        if not self._events.first_time(key):
            return
        task = asyncio.create_task(self._dispatch_stored(key, body), name="steward-slack-stored")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _dispatch_stored(self, key: str, body: dict[str, Any]) -> None:
        """Hand a stored event to Bolt as if it came now; return once its listener is done."""
        end: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ends[key] = end
        _STORED.set(True)
        try:
            response = await self.app.async_dispatch(
                AsyncBoltRequest(body=body, mode="socket_mode")
            )
            if response.status != 200:
                self.inbox.done(key)  # nothing listens to it (any more)
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(end), REPLAY_WAIT)
        except Exception:
            log.exception("handling stored event %s failed", key)
        finally:
            self._ends.pop(key, None)

    async def _replay(self) -> None:
        """Handle the events a stopped process stored (or journaled) and did not finish, each
        member's in the order they came, each to its end, before new events' listeners run."""
        try:
            await self._handle_leftovers(await self._leftovers())
        finally:
            self._replayed.set()

    async def _handle_leftovers(self, rows: list[Leftover]) -> None:
        """Handle stored events taken from the inbox (counted as work in flight until all are
        done): as many lanes at once as the dispatcher has intake workers, each lane's events
        one after the other in the order they came, each to its end. A lane is the intake's
        (``bot.core.intake.lane_of``): the events about one member of a workspace, or the
        workspace's events about no member."""
        lanes: dict[Lane, list[Leftover]] = {}
        for row in rows:  # oldest first: lanes in the order their first event came
            lanes.setdefault(self._lane(row.body), []).append(row)
        waiting = deque(lanes.values())

        async def work() -> None:
            while waiting:
                for row in waiting.popleft():
                    if self._events.first_time(row.key):
                        await self.inbox.replaying(row.key)
                        await self._dispatch_stored(row.key, row.body)

        async with self.dispatcher.activity.track():
            workers = min(self.dispatcher.intake.workers, len(waiting))
            await asyncio.gather(*(work() for _ in range(workers)))

    def _lane(self, body: dict[str, Any]) -> Lane:
        """The intake's lane of the event this stored body becomes: (workspace, member) for
        an event about a member (its author, the member who joined, changed, reacted or
        opened Steward's home), else (workspace, "")."""
        event = obj(body.get("event"))
        if event.get("subtype") == "message_changed":
            event = obj(event.get("message"))
        user = event.get("user")
        who = text(obj(user).get("id")) if isinstance(user, dict) else maybe_text(user)
        return self._community(maybe_text(body.get("team_id"))).key, who or ""

    async def _adopt(self) -> None:
        """Every minute, handle what a process that stopped (killed, or scaled away) left and
        nobody restarted to finish: its rows' lease passed (several processes on PostgreSQL)."""
        while True:
            await asyncio.sleep(ADOPT_EVERY)
            try:
                await self.inbox.recover()  # journals a stopped process on this machine left
                rows = await self.inbox.leftovers(starting=False)
            except Exception as exc:
                log.debug("could not read the inbox (%s); looking again later", exc)
                continue
            if rows:
                log.info("handling %d events a stopped Steward process had taken in", len(rows))
            await self._handle_leftovers(rows)

    async def _leftovers(self) -> list[Leftover]:
        """The inbox's leftovers (with the journals stopped processes left), read again until
        the database answers."""
        pause = 0.5
        while True:
            try:
                recovered = await self.inbox.recover()  # journals first: into the inbox
                if recovered:
                    log.info(
                        "%d events a stopped Steward acked while the database was away are "
                        "back from its journal",
                        recovered,
                    )
                leftovers = await self.inbox.leftovers()
            except Exception as exc:
                log.warning("could not read the inbox (%s); trying again", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            if leftovers:
                log.info("handling %d events a stopped Steward had taken in", len(leftovers))
            return leftovers

    async def _written(self) -> bool:
        """Whether what listeners handed on is on disk: features' own buffers (engagement's
        writer), and failures kept (a failure still in memory keeps its event's row)."""
        for feature in self.registry.features:
            await feature.written()
        await self.dispatcher.kept.flush()
        return self.dispatcher.kept.waiting == 0

    def _community(self, team_id: str | None) -> CommunityRef:
        return CommunityRef("slack", team_id or self.team_id)

    async def member(self, community: CommunityRef, user_id: str) -> Member:
        """A member snapshot with their user groups (cached users.info and usergroups.list)."""
        found = await self.port.member(UserRef(community, user_id))
        if found is None:
            raise UserError("I can't find that member in this workspace.")
        return found

    async def _publish(self, event: Event) -> None:
        """Through the dispatcher's intake; returns once the event is handled, so the Slack
        event's id is noted as handled only then."""
        try:
            await (await self.dispatcher.submit(event))
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
        feature = text(body.get("command")).lstrip("/")
        community = self._community(text(body.get("team_id")))
        channel = ChannelRef(community, text(body.get("channel_id")))
        user_id = text(body.get("user_id"))
        responder = SlackResponder(
            self.port.for_feature(feature),
            channel=channel,
            user_id=user_id,
            respond=self._respond(body),
            trigger_id=maybe_text(body.get("trigger_id")),
        )
        try:
            actor = await self.member(community, user_id)
            line = text(body.get("text")).strip()
            specs = self.registry.commands(feature)
            tokens = commands.tokenize(line)
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
            args: dict[str, Any] = {}
            problem: UserError | None = None
            try:
                args = commands.parse_args(spec, line, tokens[used:], community)
                for param in spec.params:
                    if param.kind is ParamKind.MEMBER and isinstance(args.get(param.name), UserRef):
                        args[param.name] = await self.member(community, args[param.name].id)
            except UserError as exc:
                problem = exc  # told after the permission check, by the dispatcher
            await self.dispatcher.invoke(
                Invocation(
                    spec=spec,
                    community=community,
                    actor=actor,
                    channel=channel,
                    args=args,
                    responder=responder,
                    problem=problem,
                )
            )
        except Exception as exc:
            await self._answer_failure(responder, exc, f"/{feature}")

    async def _answer_failure(self, responder: SlackResponder, exc: Exception, what: str) -> None:
        """Tell the member what went wrong; a bug is logged with an id and never shown."""
        error_id = ""
        if not isinstance(exc, UserError):
            error_id = log_failure(log, f"{what} (before its handler)", exc)
        try:
            await responder.send(render_error(exc, error_id=error_id), ephemeral=True)
        except Exception:
            log.exception("answering %s failed", what)

    async def _action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = next(iter(objs(body.get("actions"))), {})
        parsed = parse_component_id(text(action.get("action_id")))
        if parsed is None:
            return
        picked = objs(action.get("selected_options")) or objs([action.get("selected_option")])
        values = tuple(str(o["value"]) for o in picked if isinstance(o.get("value"), str))
        community = self._community(text(obj(body.get("team")).get("id")))
        channel_id = text(obj(body.get("channel")).get("id"))
        container = obj(body.get("container"))
        message_ts = maybe_text(container.get("message_ts"))
        channel = ChannelRef(community, channel_id, maybe_text(container.get("thread_ts")))
        await self._press(
            parsed,
            community=community,
            channel=channel,
            user_id=text(obj(body.get("user")).get("id")),
            values=values,
            fields={},
            message=MessageRef(channel, message_ts) if message_ts and channel_id else None,
            respond=self._respond(body),
            trigger_id=maybe_text(body.get("trigger_id")),
        )

    async def _shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A message shortcut (a ``@message_action``): a press carrying the message's snapshot."""
        await ack()
        parsed = parse_component_id(text(body.get("callback_id")))
        if parsed is None or body.get("type") != "message_action":
            return
        community = self._community(text(obj(body.get("team")).get("id")))
        channel = ChannelRef(community, text(obj(body.get("channel")).get("id")))
        target = obj(body.get("message"))
        ts = text(target.get("ts")) or text(body.get("message_ts"))
        fields = {
            "author": text(target.get("user")) or text(target.get("bot_id")),
            "text": html.unescape(text(target.get("text"))),
            "at": (ts_time(ts) or datetime.fromtimestamp(0, UTC)).isoformat(),
            "files": "\n".join(text(f.get("name")) for f in objs(target.get("files"))),
        }
        await self._press(
            parsed,
            community=community,
            channel=channel,
            user_id=text(obj(body.get("user")).get("id")),
            values=(),
            fields=fields,
            message=MessageRef(channel, ts) if ts else None,
            respond=self._respond(body),
            trigger_id=maybe_text(body.get("trigger_id")),
        )

    async def _view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        view = obj(body.get("view"))
        parsed = parse_component_id(text(view.get("callback_id")))
        if parsed is None:
            return
        fields: dict[str, str] = {}
        for block in obj(obj(view.get("state")).get("values")).values():
            for action_id, state in obj(block).items():
                fields[str(action_id)] = text(obj(state).get("value"))
        community = self._community(text(obj(body.get("team")).get("id")))
        channel_id, _, thread = text(view.get("private_metadata")).partition(":")
        user_id = text(obj(body.get("user")).get("id"))
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
            trigger_id=maybe_text(body.get("trigger_id")),
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

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then connect over Socket Mode or start the HTTP endpoint."""
        if self.client.session is None or self.client.session.closed:
            # One session for every Web API call: its connections are kept and reused (without
            # it slack_sdk opens a connection, and a TLS handshake, for each call, which is most
            # of the time a paced channel's posts take).
            self.client.session = aiohttp.ClientSession(
                connector=FreshestFirst(),
                timeout=aiohttp.ClientTimeout(total=self.client.timeout),
            )
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
        self._replayed.clear()
        replay = asyncio.create_task(self._replay(), name="steward-slack-replay")
        self._running.add(replay)
        replay.add_done_callback(self._running.discard)
        if not self.inbox.solo and self._adopting is None:
            self._adopting = asyncio.create_task(self._adopt(), name="steward-slack-adopt")
        if self.config.slack_mode == "socket":
            assert self.config.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.app, app_token=self.config.slack_app_token.get_secret_value()
            )
            self._socket.client.message_listeners.append(self._hello)
            self._socket.client.on_message_listeners.append(self._frame)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            self._ready_soon()
            return
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self.signed.handle)
        web_app.add_routes(self.extra_routes)  # features' endpoints share Slack's port
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
        """Publish PlatformReady for the workspace in the background (features catch up); the
        listing before it counts as work in flight, as the event's handling does."""
        at = datetime.now(UTC)
        activity = self.dispatcher.activity
        activity.enter()
        task = asyncio.create_task(self._ready(at), name="steward-slack-ready")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda _: activity.leave())

    async def _ready(self, at: datetime) -> None:
        """PlatformReady with everyone in the workspace (``SlackPort.everyone``): Slack stops
        redelivering a join after a few minutes, so onboarding finds who joined while no
        Steward ran by comparing them with the members it knew. When the listing fails the
        event goes without it, and the next connection's looks again."""
        community = self._community(None)
        members: tuple[Member, ...] | None = None
        try:
            members = await self.port.everyone(community)
        except (SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.warning(
                "listing the workspace's members failed (%s): who joined while no Steward ran "
                "is looked for again at the next connection",
                describe(exc),
            )
        await self._publish(PlatformReady(community=community, at=at, members=members))

    async def _hello(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        """Socket Mode says hello on every connection: after the first one, it is a reconnect."""
        if message.get("type") == "hello":
            self._hellos += 1
            self._crowded = False
            if self._hellos > 1:
                self._ready_soon()

    async def _frame(self, message: aiohttp.WSMessage) -> None:
        """Every frame, before slack_sdk reads it (a ``disconnect`` reaches no other listener):
        a connection refused as one too many is told to the operator, once until a hello."""
        data = message.data if message.type == aiohttp.WSMsgType.TEXT else ""
        if "too_many_websockets" in data and not self._crowded:
            self._crowded = True
            log.warning(
                "Slack refused this process's Socket Mode connection: the app already has 10 "
                "Socket Mode connections open, so this process gets no Slack events (it keeps "
                "trying). Run at most 10 processes with Slack, or wait for stopped ones' "
                "connections to close."
            )

    async def stop(self) -> None:
        """Stop taking work, then let acked work finish (it was promised to Slack)."""
        if self._adopting is not None:
            self._adopting.cancel()
            self._adopting = None
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
        await self.inbox.close()
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None
        if self._session is not None:
            await self._session.close()
            self._session = None


def _retry_number(req: AsyncBoltRequest) -> int:
    """Slack's retry number of this delivery (0 the first time), in either mode."""
    values = req.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0
