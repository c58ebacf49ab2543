"""What operators watch: ``/healthz`` (ready, or degraded with the reasons) and ``/metrics``
(Prometheus text format, with prometheus-client).

Off unless ``STEWARD_METRICS=on``; then both are served on Steward's HTTP endpoint. Everything is
read when asked (a scrape or a health check), from state Steward already keeps: the database
answers ``SELECT 1``, the outbox's and failed events' rows, the platforms' connections and the
dispatcher's counts of work, retries and failures. Nothing is counted on Steward's hot path (a
retry or a failure adds one to a feature's count).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from bot.core.activity import Activity
from bot.core.clock import Clock
from bot.core.transient import describe
from bot.db.engine import Database
from bot.db.models import FailedEvent, OutboxItem

log = logging.getLogger("steward.health")
DB_TIMEOUT = 5.0
"""Seconds the database has to answer a health check before it counts as unreachable."""
OUTBOX_LAG = timedelta(minutes=5)
"""A pending outbox row due longer ago than this makes Steward degraded."""
LATENCY_WINDOW = timedelta(minutes=15)
"""Delivery latency is measured over the rows sent within this window."""

ConnectionProbe = Callable[[], Awaitable[bool | str]]
"""True while a platform connection is up, False while it is down (reconnecting), or why it is
down for good (a refusal Steward does not retry, e.g. Discord's close code 4014)."""


@dataclass
class Snapshot:
    """One reading of Steward's state."""

    database: bool = False
    outbox_pending: int = 0
    outbox_failed: int = 0
    outbox_oldest_due: float = 0.0
    latencies: list[float] = field(default_factory=list)
    connections: dict[str, bool] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # failed events waiting, by feature
    reasons: list[str] = field(default_factory=list)


class Health:
    """Reads Steward's state and answers ``/healthz`` and ``/metrics``."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        activity: Activity,
        connections: dict[str, ConnectionProbe],
        retried: Mapping[str, int] | None = None,
        gave_up: Mapping[str, int] | None = None,
    ) -> None:
        """``retried`` and ``gave_up`` are the dispatcher's live counts by feature (listener
        tries retried after a passing failure; events still failing after their retries)."""
        self.db = db
        self.clock = clock
        self.activity = activity
        self.connections = connections
        self.timeout = DB_TIMEOUT
        self._check: asyncio.Task[None] | None = None
        self.registry = CollectorRegistry()
        r = self.registry
        self._up = Gauge("steward_up", "1 when ready, 0 when degraded", registry=r)
        self._db_up = Gauge("steward_database_up", "1 when the database answers", registry=r)
        self._db_errors = Counter(
            "steward_database_errors", "Health checks the database failed", registry=r
        )
        self._work = Gauge(
            "steward_work_started",
            "Units of work started since the process began (events, commands, jobs, deliveries)",
            registry=r,
        )
        self._busy = Gauge("steward_work_in_flight", "Units of work in flight now", registry=r)
        self._pending = Gauge("steward_outbox_pending", "Outbox rows not yet sent", registry=r)
        self._failed = Gauge("steward_outbox_failed", "Outbox rows given up on", registry=r)
        self._oldest = Gauge(
            "steward_outbox_oldest_due_seconds",
            "How long the oldest pending outbox row has been due (0: none)",
            registry=r,
        )
        self._latency = Gauge(
            "steward_outbox_delivery_seconds",
            f"Seconds from queued to sent, over rows sent in the last "
            f"{int(LATENCY_WINDOW.total_seconds() // 60)} minutes",
            ["quantile"],
            registry=r,
        )
        self._events = _EventCounts(
            {} if retried is None else retried, {} if gave_up is None else gave_up
        )
        r.register(self._events)
        self._connected = Gauge(
            "steward_platform_connected",
            "1 when the platform connection (Discord gateway, Slack Socket Mode) is up",
            ["platform"],
            registry=r,
        )

    async def read(self) -> Snapshot:
        """The state now; a database that fails or hangs is a reason, never an exception."""
        snap = Snapshot()
        # A check runs as a task of its own: a database that hangs (SQLite waiting out a lock)
        # leaves it running while /healthz answers on time, and the next check waits for that
        # one rather than piling another on top.
        problem = await self._previous_check()
        if problem is None:
            self._check = asyncio.create_task(self._read_db(snap))
            problem = await self._previous_check()
        if problem is None:
            snap.database = True
        else:
            self._db_errors.inc()
            snap.reasons.append(f"database unreachable ({problem})")
            log.warning("health check: the database is unreachable (%s)", problem)
        for platform, probe in self.connections.items():
            try:
                state = await probe()
            except Exception:
                state = False
            snap.connections[platform] = state is True
            if isinstance(state, str):
                snap.reasons.append(f"{platform} stopped: {state}")
            elif not state:
                snap.reasons.append(f"{platform} disconnected")
        if snap.outbox_oldest_due > OUTBOX_LAG.total_seconds():
            snap.reasons.append(
                f"outbox behind: {snap.outbox_pending} pending, the oldest due "
                f"{int(snap.outbox_oldest_due)} s ago"
            )
        return snap

    async def _previous_check(self) -> str | None:
        """Wait (up to the timeout) for the running check; what went wrong with it, if anything."""
        check = self._check
        if check is None:
            return None
        done, _ = await asyncio.wait({check}, timeout=self.timeout)
        if not done:
            return f"no answer within {self.timeout:g} s"
        self._check = None
        failed = None if check.cancelled() else check.exception()
        return describe(failed) if failed is not None else None

    async def close(self) -> None:
        """Cancel a check still waiting on the database."""
        if self._check is not None:
            self._check.cancel()
            await asyncio.gather(self._check, return_exceptions=True)

    async def _read_db(self, snap: Snapshot) -> None:
        now = self.clock.now()
        async with self.db.sessions() as session:
            await session.execute(text("SELECT 1"))
            counts = dict(
                (
                    await session.execute(
                        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
                    )
                ).all()
            )
            snap.outbox_pending = int(counts.get("pending", 0))
            snap.outbox_failed = int(counts.get("failed", 0))
            oldest = await session.scalar(
                select(func.min(OutboxItem.due_at)).where(OutboxItem.status == "pending")
            )
            if oldest is not None:
                snap.outbox_oldest_due = max(0.0, (now - _aware(oldest, now)).total_seconds())
            rows = await session.execute(
                select(OutboxItem.created_at, OutboxItem.sent_at)
                .where(OutboxItem.sent_at >= now - LATENCY_WINDOW)
                .limit(5000)
            )
            kept = await session.execute(
                select(FailedEvent.feature, func.count())
                .where(FailedEvent.status == "failed")
                .group_by(FailedEvent.feature)
            )
            snap.kept = {str(feature): int(n) for feature, n in kept.all()}
            snap.latencies = [
                max(0.0, (_aware(sent, now) - _aware(made, now)).total_seconds())
                for made, sent in rows.all()
                if sent is not None
            ]

    def _record(self, snap: Snapshot) -> None:
        self._up.set(0 if snap.reasons else 1)
        self._db_up.set(1 if snap.database else 0)
        self._work.set(self.activity.generation)
        self._busy.set(self.activity.busy)
        if snap.database:
            self._pending.set(snap.outbox_pending)
            self._failed.set(snap.outbox_failed)
            self._oldest.set(snap.outbox_oldest_due)
            self._events.kept = snap.kept
            done = sorted(snap.latencies)
            for q in (0.5, 0.99):
                value = _quantile(done, q) if done else float("nan")
                self._latency.labels(quantile=str(q)).set(value)
        for platform, up in snap.connections.items():
            self._connected.labels(platform=platform).set(1 if up else 0)

    async def healthz(self, _request: web.Request) -> web.Response:
        """200 ``ready``, or 503 ``degraded:`` and one reason a line."""
        snap = await self.read()
        self._record(snap)
        if snap.reasons:
            return web.Response(status=503, text="degraded: " + "; ".join(snap.reasons) + "\n")
        return web.Response(status=200, text="ready\n")

    async def metrics(self, _request: web.Request) -> web.Response:
        """Prometheus text format."""
        self._record(await self.read())
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def routes(self) -> list[web.RouteDef]:
        """``GET /healthz`` and ``GET /metrics``."""
        return [web.get("/healthz", self.healthz), web.get("/metrics", self.metrics)]


class _EventCounts:
    """Listener retries and failures by feature, read from the dispatcher when scraped (its
    counts are plain increments on the hot path), and the failed events waiting in the
    database (as of the last reading)."""

    def __init__(self, retried: Mapping[str, int], gave_up: Mapping[str, int]) -> None:
        self.retried = retried
        self.gave_up = gave_up
        self.kept: Mapping[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        """The three families, one sample per feature that has one."""
        retried = CounterMetricFamily(
            "steward_events_retried",
            "Listener tries retried after a passing failure (busy database, 5xx, reset)",
            labels=["feature"],
        )
        for feature, n in sorted(self.retried.items()):
            retried.add_metric([feature], n)
        gave_up = CounterMetricFamily(
            "steward_events_failed",
            "Events a listener still failed on after its retries (each kept as failed)",
            labels=["feature"],
        )
        for feature, n in sorted(self.gave_up.items()):
            gave_up.add_metric([feature], n)
        kept = GaugeMetricFamily(
            "steward_failed_events",
            "Events kept as failed and not retried successfully yet (/steward failures)",
            labels=["feature"],
        )
        for feature, n in sorted(self.kept.items()):
            kept.add_metric([feature], n)
        yield from (retried, gave_up, kept)


def _aware(value: Any, like: Any) -> Any:
    """SQLite gives naive datetimes back; they are UTC, like the clock's."""
    if value.tzinfo is None and like.tzinfo is not None:
        return value.replace(tzinfo=like.tzinfo)
    return value


def _quantile(ordered: list[float], q: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q * 100) - 1]
