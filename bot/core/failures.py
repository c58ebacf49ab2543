"""Listener failures kept after their retries ran out: a row each, for the staff and operator.

The dispatcher retries a listener that failed on something passing (``bot.core.transient``);
what still fails is written here with its error id, feature, listener, event kind, a summary
and the event itself, so ``/steward failures show`` shows it to the community's admins,
``steward doctor`` counts it for the operator, and ``/steward failures retry`` hands the same
event to the same listener again. If even this write fails (the database is away), the
record waits in memory and is written with the next one.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import func, select

from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.ids import CommunityRef
from bot.db.models import FailedEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.failures")


MAX_WAITING = 1000
"""Failures kept in memory while the database cannot take them; beyond it the oldest go."""


class _EventsOnly(pickle.Unpickler):
    """Reads back only what an event is made of (Steward's own classes, times, sets): a row
    altered in the database can't make the process run anything else."""

    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("datetime", "datetime"),
            ("datetime", "timezone"),
            ("datetime", "timedelta"),
            ("builtins", "frozenset"),
            ("builtins", "set"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        """Steward's classes (``bot.core``, ``cogs``) and the few the standard library needs."""
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        ours = ("bot.core.", "cogs.")
        if module.startswith(ours) and not name.startswith("_") and "." not in name:
            # A dotted name would walk into whatever the module imported (``os.system``).
            found = super().find_class(module, name)
            # A class an event is made of, defined by Steward: never a function to call.
            if isinstance(found, type) and found.__module__.startswith(ours):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of an event")


def read_event(data: bytes) -> Event:
    """An event :meth:`Failures.keep` stored."""
    event = _EventsOnly(io.BytesIO(data)).load()
    if not isinstance(event, Event):
        raise pickle.UnpicklingError("not an event")
    return event


@dataclass(frozen=True, slots=True)
class Kept:
    """A failure as the staff see it."""

    id: int
    error_id: str
    feature: str
    event_kind: str
    summary: str
    error: str
    attempts: int
    failed_at: datetime


def summary_of(event: Event) -> str:
    """A short line about the event (who, where; never message text)."""
    parts = [type(event).__name__]
    for f in fields(event):
        if f.name in ("community", "at", "text"):
            continue
        value = getattr(event, f.name)
        shown = getattr(value, "ref", value)  # a Member shows as its id
        shown = getattr(shown, "id", shown)
        if isinstance(shown, str | int) and not isinstance(shown, bool) and str(shown):
            parts.append(f"{f.name}={shown}")
    return " ".join(parts)[:300]


class Failures:
    """Keeps, lists, counts and retries failures; one per process (the dispatcher's)."""

    def __init__(self, sessions: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self._unwritten: list[dict[str, Any]] = []
        self.dropped = 0
        """Failures dropped from memory because too many waited (their error ids were logged)."""

    async def keep(
        self,
        *,
        error_id: str,
        feature: str,
        listener: str,
        event: Event,
        exc: BaseException,
        attempts: int,
    ) -> None:
        """Write the failure (and any that could not be written before)."""
        self._unwritten.append(
            {
                "error_id": error_id,
                "community_id": event.community.key,
                "feature": feature,
                "listener": listener[:100],
                "event_kind": type(event).__name__[:64],
                "summary": summary_of(event),
                "event": pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL),
                "error": f"{type(exc).__name__}: {exc}"[:300],
                "attempts": attempts,
                "failed_at": self.clock.now(),
                "status": "failed",
            }
        )
        if len(self._unwritten) > MAX_WAITING:  # the database is away for long: memory is bounded
            gone = self._unwritten.pop(0)
            self.dropped += 1
            log.error(
                "failure %s could not be recorded and is dropped from memory", gone["error_id"]
            )
        await self.flush()

    async def flush(self) -> None:
        """Write what waits in memory; on failure it keeps waiting (and says so)."""
        if not self._unwritten:
            return
        rows, self._unwritten = self._unwritten, []
        try:
            async with self.sessions() as uow:
                for row in rows:
                    uow.session.add(FailedEvent(**row))
                await uow.commit()
        except Exception as exc:
            self._unwritten = rows + self._unwritten
            log.warning(
                "%d failed events not recorded yet (%s; latest error ids %s); kept in memory",
                len(self._unwritten),
                type(exc).__name__,
                ", ".join(r["error_id"] for r in self._unwritten[-5:]),
            )

    @property
    def waiting(self) -> int:
        """Failures not written to the database yet."""
        return len(self._unwritten)

    async def retry(
        self,
        community: CommunityRef,
        run: Callable[[str, str, Event], Awaitable[bool]],
    ) -> tuple[int, int]:
        """Hand each kept failure of the community to its listener again (``run(feature,
        listener, event)`` says whether it succeeded); returns (succeeded, still failing)."""
        async with self.sessions() as uow:
            rows = list(
                await uow.session.execute(
                    select(
                        FailedEvent.id,
                        FailedEvent.error_id,
                        FailedEvent.feature,
                        FailedEvent.listener,
                        FailedEvent.event,
                    )
                    .where(
                        FailedEvent.community_id == community.key,
                        FailedEvent.status == "failed",
                    )
                    .order_by(FailedEvent.id)
                )
            )
        done = failing = 0
        for row in rows:
            try:
                event = read_event(row.event)
            except Exception:
                log.exception("failed event %s can no longer be read", row.error_id)
                failing += 1
                continue
            ok = await run(row.feature, row.listener, event)
            async with self.sessions() as uow:
                found = await uow.session.get(FailedEvent, row.id)
                if found is not None:
                    if ok:
                        found.status, found.replayed_at = "replayed", self.clock.now()
                    else:
                        found.attempts += 1
                    await uow.commit()
            done += ok
            failing += not ok
        return done, failing


async def listed(session: Any, community: CommunityRef, limit: int = 20) -> tuple[int, list[Kept]]:
    """How many failures the community has kept, and the latest ``limit`` of them."""
    where = (FailedEvent.community_id == community.key, FailedEvent.status == "failed")
    total = await session.scalar(select(func.count()).where(*where))
    rows = await session.scalars(
        select(FailedEvent).where(*where).order_by(FailedEvent.id.desc()).limit(limit)
    )
    kept = [
        Kept(r.id, r.error_id, r.feature, r.event_kind, r.summary, r.error, r.attempts, r.failed_at)
        for r in rows
    ]
    return int(total or 0), kept


async def counts(session: Any) -> list[tuple[str, str, int]]:
    """(feature, event kind, failures kept) across every community, for ``steward doctor``."""
    rows = await session.execute(
        select(FailedEvent.feature, FailedEvent.event_kind, func.count())
        .where(FailedEvent.status == "failed")
        .group_by(FailedEvent.feature, FailedEvent.event_kind)
        .order_by(FailedEvent.feature, FailedEvent.event_kind)
    )
    return [(str(f), str(k), int(n)) for f, k, n in rows]
