"""The dispatcher: one unit of work and one error boundary per handler call."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.core.activity import Activity
from bot.core.calls import Invocation as Invocation
from bot.core.calls import Press as Press
from bot.core.clock import Clock
from bot.core.communities import KnownCommunities, active_communities
from bot.core.context import CommandContext, Context, JobContext, Responder
from bot.core.errors import NotSupported, StewardError, UserError, render_error
from bot.core.events import Event, ForgetRequested
from bot.core.failures import Failures, Hold, Taken
from bot.core.feature import Feature, JobSpec
from bot.core.http import HttpContext, HttpRequest, HttpResponse
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform
from bot.core.intake import Intake
from bot.core.jobruns import JobRuns, slot_of
from bot.core.members import Member
from bot.core.message import Message
from bot.core.outage import DatabaseGate, trouble
from bot.core.outbox import Deliverer, Outbox
from bot.core.port import Port
from bot.core.registry import Listener, Registry
from bot.core.steps import FeatureOff, Steps
from bot.core.timers import Timers
from bot.core.transient import database_trouble, describe, is_transient, log_failure
from bot.db.engine import Database
from bot.db.models import Timer
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.dispatch")
MAX_TIMER_ATTEMPTS = 5
TIMER_LIMIT = 300.0
"""Seconds one try of a timer may run before it is stopped (a call with no answer, a database
connection gone silent): tried on the loop that runs every timer and outbox retry, a try that
never ended would hold all of them off for good. A stopped try is rolled back and recorded as
failed, then tried again later, as any failed try is."""


class Overran(StewardError):
    """A timer's try ran past ``TIMER_LIMIT`` and was stopped (not passing trouble: trying it
    again at once would most likely hang again)."""


RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
"""A listener's budget after a passing failure: 7 tries over about 16 seconds."""


class Dispatcher:
    """Routes events, commands, components, jobs and timers to feature handlers, safely."""

    def __init__(self, registry: Registry, db: Database, clock: Clock, *, workers: int = 8) -> None:
        self.registry = registry
        self.db = db
        self.clock = clock
        self.ports: dict[Platform, Port] = {}
        self.failures = 0
        self.wake_timers: Callable[[datetime], None] = lambda _at: None
        self.activity = Activity()
        self.communities = KnownCommunities()
        self.steps = Steps(self.communities, clock)
        """The steps before every handler (``bot.core.steps.STEPS``), shared with features'
        own fast paths."""
        self.deliverer = Deliverer(db.uow, self.ports, clock, self.activity, db.reads)
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        """Seconds between a listener's tries after a passing failure (jittered ±50%)."""
        self.retried: Counter[str] = Counter()
        """Listener tries retried after a passing failure, by feature (``/metrics``)."""
        self.gave_up: Counter[str] = Counter()
        """Events whose listener still failed after its retries, by feature (``/metrics``)."""
        self.kept = Failures(db.uow, clock, self.replay)
        """Listener failures kept after their retries (``/steward failures show``, doctor),
        tried again by themselves when they failed on passing trouble."""
        self.database = DatabaseGate(db, lambda: self.retry_delays, self.kept.flush)
        """Holds listeners while the database is away, so they don't spend their retries."""
        self.intake = Intake(self._queued, self.activity, workers=workers)
        self.job_runs = JobRuns()
        """Which process runs each recurring job where: once per community and slot."""

    def add_port(self, port: Port) -> None:
        """Serve a platform through this port."""
        self.ports[port.platform] = port

    def port_for(self, community: CommunityRef) -> Port:
        """The port of a community's platform."""
        try:
            return self.ports[community.platform]
        except KeyError:
            raise NotSupported("this platform", community.platform) from None

    def _logger(
        self, community: CommunityRef, feature: str, handler: str
    ) -> logging.LoggerAdapter[logging.Logger]:
        extra = {"community": community.key, "feature": feature, "handler": handler}
        return logging.LoggerAdapter(logging.getLogger(f"steward.{feature}"), extra)

    def _base(
        self, uow: UnitOfWork, feature: Feature, community: CommunityRef, settings: Any
    ) -> dict[str, Any]:
        return {
            "community": community,
            "feature": feature.name,
            "port": self.port_for(community).for_feature(feature.name),
            "uow": uow,
            "reads": self.db.reads,
            "settings": settings,
            "clock": self.clock,
            "timers": Timers(uow, community, feature.name, self.clock, self.wake_timers),
            "outbox": Outbox(uow, community, feature.name, self.clock, self.deliverer),
        }

    async def _deliver(self, events: list[Event]) -> None:
        for event in events:
            await self.publish(event)

    def _failed(self, what: str, exc: BaseException) -> str:
        self.failures += 1
        return log_failure(log, what, exc)

    # -- events ------------------------------------------------------------------------------

    async def submit(self, event: Event) -> asyncio.Future[None]:
        """Hand in an event from a platform: inline listeners see it now; the others through
        the bounded intake (``bot.core.intake``), in order per member. Waits while the intake
        is full. The future is done once every listener has handled it or kept its failure."""
        listeners = self.registry.listeners(type(event))
        queued = [lst for lst in listeners if not lst.inline]
        if len(queued) < len(listeners):
            await self._inline(event, [lst for lst in listeners if lst.inline])
        if not queued:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return await self.intake.submit(event)

    async def _queued(self, event: Event) -> None:
        """An intake worker's turn: the event's queued listeners, one after the other (a
        worker holds at most one database connection)."""
        for lst in self.registry.listeners(type(event)):
            if not lst.inline:
                await self._listen(lst.feature, lst.handler, lst.name, event)

    async def publish(self, event: Event) -> None:
        """Deliver an event to every enabled listener, each isolated from the others (events
        features publish; platforms' events come through :meth:`submit`)."""
        listeners = self.registry.listeners(type(event))
        if not listeners:
            return
        activity = self.activity
        activity.enter()
        try:
            await self._inline(event, [lst for lst in listeners if lst.inline])
            isolated = [lst for lst in listeners if not lst.inline]
            # The common cases (nothing, or one listener) without gather's extra future.
            if len(isolated) == 1:
                lst = isolated[0]
                await self._listen(lst.feature, lst.handler, lst.name, event)
            elif isolated:
                await asyncio.gather(
                    *(self._listen(lst.feature, lst.handler, lst.name, event) for lst in isolated)
                )
        finally:
            activity.leave()

    async def _inline(self, event: Event, listeners: list[Listener]) -> None:
        for lst in listeners:
            try:
                await lst.handler(event)
            except Exception as exc:
                self._failed(f"inline listener {lst.name} on {type(event).__name__}", exc)

    async def _listen(
        self,
        feature: Feature,
        handler: Callable[..., Awaitable[Any]],
        name: str,
        event: Event,
        *,
        keep: bool = True,
        once: bool = False,
        hold: Hold | None = None,
    ) -> BaseException | None:
        """Run one listener; retry it while it fails on something passing (a busy or absent
        database, a reset connection, a platform's 5xx) until the budget runs out (``once``:
        no retries); keep what still fails (``bot.core.failures``). A try that failed on the
        database's own trouble waits for it to answer (``bot.core.outage``), and when it had
        been away the try does not count; a platform's 5xx or a full pool counts. ``hold``
        (a kept failure's retry) renews its claim before each retry: when another try took the
        event meanwhile, this one stops (``Taken``). None when it succeeded, else what it last
        failed on."""
        delays = () if once else self.retry_delays
        attempt = 0
        while True:
            attempt += 1
            try:
                if attempt > 1 and hold is not None and not await hold():
                    return Taken(f"{name} on {type(event).__name__}")
                await self._listen_once(feature, handler, name, event)
                return None
            except Exception as exc:
                what = f"listener {name} on {type(event).__name__}"
                if attempt <= len(delays) and is_transient(exc):
                    if database_trouble(exc) and await self.database.wait_until_up():
                        attempt -= 1  # the database was away: this try does not count
                        continue
                    self.retried[feature.name] += 1
                    await self._pause(exc, attempt, what)
                    continue
                error_id = self._failed(f"{what} in {event.community.key}", exc)
                if keep:
                    self.gave_up[feature.name] += 1
                    await self.kept.keep(
                        error_id=error_id,
                        feature=feature.name,
                        listener=name,
                        event=event,
                        exc=exc,
                        attempts=attempt,
                    )
                return exc

    async def _listen_once(
        self, feature: Feature, handler: Callable[..., Awaitable[Any]], name: str, event: Event
    ) -> None:
        async with self.db.uow() as uow:
            try:
                admitted = await self.steps.admit(
                    uow,
                    feature,
                    event.community,
                    forgetting=isinstance(event, ForgetRequested),
                )
            except FeatureOff:
                return
            ctx: Context[Any] = Context(
                **self._base(uow, feature, event.community, admitted.settings),
                log=self._logger(event.community, feature.name, name),
            )
            await handler(ctx, event)
            await uow.commit()
        await self._deliver(ctx.published)

    async def replay(
        self,
        feature: str,
        listener: str,
        event: Event,
        once: bool = False,
        hold: Hold | None = None,
    ) -> BaseException | None:
        """Hand a kept event to the listener that failed on it (``/steward failures retry``
        with the usual retries, the automatic tries ``once``); a failure is not kept a second
        time. None when it succeeded, else what it failed on."""
        for lst in self.registry.listeners(type(event)):
            if lst.feature.name == feature and lst.name == listener and not lst.inline:
                async with self.activity.track():
                    return await self._listen(
                        lst.feature, lst.handler, lst.name, event, keep=False, once=once, hold=hold
                    )
        return LookupError(f"no listener {feature}.{listener} for {type(event).__name__} now")

    # -- HTTP endpoints ----------------------------------------------------------------------

    async def serve(
        self,
        feature: Feature,
        handler: Callable[[HttpContext, HttpRequest], Awaitable[HttpResponse]],
        request: HttpRequest,
    ) -> HttpResponse:
        """Run an endpoint handler in one unit of work; a failure answers 500 with an error id."""
        async with self.activity.track():
            name = getattr(handler, "__name__", "endpoint")
            try:
                async with self.db.uow() as uow:

                    async def enter(community: CommunityRef) -> Context[Any] | None:
                        if community.platform not in self.ports:
                            return None
                        try:
                            admitted = await self.steps.admit(uow, feature, community)
                        except FeatureOff:
                            return None
                        ctx: Context[Any] = Context(
                            **self._base(uow, feature, community, admitted.settings),
                            log=self._logger(community, feature.name, name),
                        )
                        http.entered.append(ctx)
                        return ctx

                    http = HttpContext(
                        uow=uow,
                        clock=self.clock,
                        log=logging.LoggerAdapter(logging.getLogger(f"steward.{feature.name}")),
                        enter=enter,
                    )
                    response = await handler(http, request)
                    await uow.commit()
                for ctx in http.entered:
                    await self._deliver(ctx.published)
                return response
            except Exception as exc:
                error_id = self._failed(f"endpoint {feature.name}.{name}", exc)
                return HttpResponse(500, f"error {error_id}")

    # -- commands and components -------------------------------------------------------------

    async def invoke(self, call: Invocation) -> None:
        """Run a command: check the feature, the level and the arguments, then the handler."""
        async with self.activity.track():
            await self._invoke(call)

    async def _invoke(self, call: Invocation) -> None:
        spec = call.spec
        feature = self.registry.feature(spec.feature)
        if feature is None:
            await self._answer_error(call.responder, UserError("That command no longer exists."))
            return
        handler = self.registry.handler(spec)
        missing = [p.name for p in spec.params if p.required and call.args.get(p.name) is None]
        args = {p.name: call.args.get(p.name, p.default) for p in spec.params}
        await self._run_interactive(
            feature,
            call.community,
            call.actor,
            call.channel,
            call.responder,
            requires=spec.requires,
            what=f"/{spec.feature} {spec.name}",
            ephemeral=spec.ephemeral,
            message=None,
            precheck=call.problem
            or (
                UserError(f"Missing {', '.join(missing)}. Usage: `{spec.usage}`")
                if missing
                else None
            ),
            call=lambda ctx: handler(ctx, **args),
        )

    async def press(self, press: Press) -> None:
        """Run the handler for a button, select or form submission."""
        async with self.activity.track():
            await self._press(press)

    async def _press(self, press: Press) -> None:
        found = self.registry.component(press.feature, press.action)
        feature = self.registry.feature(press.feature)
        if found is None or feature is None:
            await self._answer_error(
                press.responder, UserError("That button no longer does anything.")
            )
            return
        mark, handler = found
        await self._run_interactive(
            feature,
            press.community,
            press.actor,
            press.channel,
            press.responder,
            requires=mark.requires,
            what="that",
            ephemeral=True,
            message=press.message,
            precheck=None,
            call=lambda ctx: handler(ctx, press),
        )

    async def _run_interactive(
        self,
        feature: Feature,
        community: CommunityRef,
        actor: Member,
        channel: ChannelRef,
        responder: Responder,
        *,
        requires: Any,
        what: str,
        ephemeral: bool,
        message: MessageRef | None,
        precheck: UserError | None,
        call: Callable[[CommandContext[Any]], Awaitable[Any]],
    ) -> None:
        ctx: CommandContext[Any] | None = None
        try:
            async with self.db.uow() as uow:
                admitted = await self.steps.admit(
                    uow,
                    feature,
                    community,
                    actor=actor,
                    requires=requires,
                    what=what,
                    problem=precheck,
                )
                assert admitted.actor is not None
                ctx = CommandContext(
                    **self._base(uow, feature, community, admitted.settings),
                    log=self._logger(community, feature.name, what),
                    actor=admitted.actor,
                    channel=channel,
                    responder=responder,
                    ephemeral=ephemeral,
                    message=message,
                )
                await call(ctx)
                await uow.commit()
            await ctx.send_replies()
            if not ctx.replied:
                await responder.send(Message(text="Done."), ephemeral=True)
            await self._deliver(ctx.published)
        except UserError as exc:
            await self._answer_error(responder, exc)
        except Exception as exc:
            error_id = self._failed(f"{what} in {community.key}", exc)
            await self._answer_error(responder, exc, error_id=error_id)

    async def _answer_error(
        self, responder: Responder, exc: BaseException, *, error_id: str = ""
    ) -> None:
        try:
            await responder.send(render_error(exc, error_id=error_id), ephemeral=True)
        except Exception as send_exc:
            self._failed("sending an error reply", send_exc)

    # -- jobs and timers ---------------------------------------------------------------------

    async def run_job(
        self, job: JobSpec, at: datetime | None = None, *, only: str | None = None
    ) -> int:
        """Run a recurring job for its slot at ``at`` (now by default) in every community where
        its feature is on (or in ``only``), except where another process has run it already."""
        async with self.activity.track():
            return await self._run_job(job, slot_of(job, at or self.clock.now()), only)

    async def _run_job(self, job: JobSpec, slot: datetime, only: str | None) -> int:
        feature = self.registry.feature(job.feature)
        if feature is None:
            return 0
        handler = self.registry.job_handler(job)
        while True:
            try:
                async with self.db.uow() as uow:
                    communities = [
                        c
                        for c in await active_communities(uow.session)
                        if c.platform in self.ports and only in (None, c.key)
                    ]
                break
            except Exception as exc:
                if await self.looked_again(exc):
                    continue
                self._failed(f"job {job.id}", exc)
                return 0
        ran = 0
        for community in communities:
            ran += await self._job_in(job, slot, feature, handler, community)
        return ran

    async def looked_again(self, exc: BaseException) -> bool:
        """For a read that only looks (which timers or communities are due): True when ``exc``
        is the database's own trouble, once the database answers again, whether it was away
        or only busy a moment (a lock held past the busy timeout); the look is then made again
        rather than the work given up."""
        if not database_trouble(exc):
            return False
        await self.database.wait_until_up()
        return True

    async def paused(self, exc: BaseException, tries: int, what: str) -> bool:
        """For a timer's or a job's try that failed on passing trouble that was not the
        database away (busy a moment past the busy timeout, a reset connection, a platform's
        5xx): pause as a listener would before its next try and return True, while the
        budget (``retry_delays``) lasts; False when the failure is to be recorded."""
        if tries > len(self.retry_delays) or not is_transient(exc):
            return False
        await self._pause(exc, tries, what)
        return True

    async def _pause(self, exc: BaseException, tries: int, what: str) -> None:
        """Say that ``what`` failed on passing trouble and wait before its next try."""
        delay = self.retry_delays[tries - 1] * random.uniform(0.5, 1.5)
        if database_trouble(exc):  # said once a while, not once an event
            trouble.said(log, what, exc)
        else:
            log.warning(
                "%s failed (%s); trying again in %.1f s (try %d of %d)",
                what,
                describe(exc),
                delay,
                tries + 1,
                len(self.retry_delays) + 1,
            )
        await asyncio.sleep(delay)

    async def outlasted(self, exc: BaseException) -> bool:
        """When ``exc`` is the database's own trouble, wait for the database to answer (as
        listeners do, ``bot.core.outage``); True when it had been away, so the work is to be
        done again now rather than recorded as failed."""
        return database_trouble(exc) and await self.database.wait_until_up()

    async def _job_in(
        self,
        job: JobSpec,
        slot: datetime,
        feature: Feature,
        handler: Callable[..., Awaitable[Any]],
        community: CommunityRef,
    ) -> int:
        """Run a job in one community for its slot; 1 when it ran here (0 when its feature is
        off there, another process ran it or runs it now, or it failed)."""
        runs, tries = self.job_runs, 0
        while True:
            now, claimed, tries = self.clock.now(), False, tries + 1
            try:
                async with self.db.uow() as uow:
                    try:
                        admitted = await self.steps.admit(uow, feature, community)
                    except FeatureOff:
                        return 0
                    session = uow.session
                    claimed = await runs.claim(session, job.id, community.key, slot, now)
                    if not claimed:
                        return 0  # another process ran it, or runs it now
                    ctx: JobContext[Any] = JobContext(
                        **self._base(uow, feature, community, admitted.settings),
                        log=self._logger(community, feature.name, job.id),
                    )
                    await handler(ctx)
                    done = self.clock.now()
                    await runs.finish(session, job.id, community.key, slot, done, "ok")
                    await uow.commit()
                await self._deliver(ctx.published)
                return 1
            except Exception as exc:
                if await self.outlasted(exc):
                    tries -= 1
                    continue  # the database was away: the job runs here now it is back
                if await self.paused(exc, tries, f"job {job.id} in {community.key}"):
                    continue  # busy a moment: its claim was rolled back; try it again
                error_id = self._failed(f"job {job.id} in {community.key}", exc)
                if claimed:
                    await self._job_failed(job, community, slot, error_id)
                return 0

    async def _job_failed(
        self, job: JobSpec, community: CommunityRef, slot: datetime, error_id: str
    ) -> None:
        """Mark a job run this process claimed as failed: not run again by another process in
        this slot."""
        try:
            async with self.db.uow() as uow:
                outcome, done = f"error {error_id}", self.clock.now()
                await self.job_runs.finish(uow.session, job.id, community.key, slot, done, outcome)
                await uow.commit()
        except Exception as mark_exc:
            self._failed(f"marking job {job.id} in {community.key} failed", mark_exc)

    async def run_timer(self, timer_id: int) -> bool:
        """Run one due timer exactly once; True when it ran here."""
        async with self.activity.track():
            return await self._run_timer(timer_id)

    async def _run_timer(self, timer_id: int) -> bool:
        tries = 0
        while True:
            now, tries = self.clock.now(), tries + 1
            try:
                limit = asyncio.timeout(TIMER_LIMIT)
                try:
                    async with limit:
                        return await self._run_timer_once(timer_id, now)
                except TimeoutError:
                    if not limit.expired():
                        raise  # the handler's own timeout, not the limit
                # Raised outside the handler above, so it carries no TimeoutError with it (one
                # would make it look like passing trouble, to be tried again at once).
                raise Overran(f"ran for more than {TIMER_LIMIT:.0f} s and was stopped")
            except Exception as exc:
                if isinstance(exc, Overran):
                    pass
                elif await self.outlasted(exc):
                    tries -= 1
                    continue  # the database was away: the timer runs now it is back
                elif await self.paused(exc, tries, f"timer {timer_id}"):
                    continue  # busy a moment: rolled back, not done; try it again
                error_id = self._failed(f"timer {timer_id}", exc)
                try:
                    await self._record_timer_failure(timer_id, error_id, now)
                except Exception as record_exc:
                    self._failed(f"recording timer {timer_id}'s failure", record_exc)
                return False

    async def _run_timer_once(self, timer_id: int, now: datetime) -> bool:
        """One try of a due timer: marked done in its handler's transaction."""
        async with self.db.uow() as uow:
            row = await uow.session.scalar(
                select(Timer)
                .where(Timer.id == timer_id, Timer.done_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return False
            # Marked done in the handler's own transaction: if the handler commits and then
            # acts, the timer never runs twice; if it fails before committing, it is retried.
            row.done_at = now
            row.attempts += 1
            row.outcome = "ok"
            community = CommunityRef.from_key(row.community_id)
            handler = self.registry.timer(row.feature, row.name)
            feature = self.registry.feature(row.feature)
            if handler is None or feature is None or community.platform not in self.ports:
                row.outcome = "no handler"
                await uow.commit()
                return False
            try:
                admitted = await self.steps.admit(uow, feature, community)
            except FeatureOff:
                row.outcome = "feature off"
                await uow.commit()
                return False
            ctx: JobContext[Any] = JobContext(
                **self._base(uow, feature, community, admitted.settings),
                log=self._logger(community, feature.name, f"timer {row.name}"),
            )
            await handler(ctx, dict(row.payload))
            await uow.commit()
        await self._deliver(ctx.published)
        return True

    async def _record_timer_failure(self, timer_id: int, error_id: str, now: datetime) -> None:
        async with self.db.uow() as uow:
            row = await uow.session.get(Timer, timer_id)
            if row is None or row.done_at is not None:
                return
            row.attempts += 1
            row.outcome = f"error {error_id}"
            row.due_at = now + timedelta(minutes=2**row.attempts)
            if row.attempts >= MAX_TIMER_ATTEMPTS:
                row.done_at = now
                row.outcome = f"gave up after {row.attempts} attempts, last error {error_id}"
            await uow.commit()
