"""Platform events stored before they are acked, until they are handled.

Slack counts an acked event as delivered: it does not send it again. Bolt acks before the
listener runs, so a process killed with a backlog lost every event it had acked and not yet
handled. Here an event's raw body is written just before its ack, in one quick insert shared
with whatever else arrived meanwhile (a join storm is a few transactions, not one per event),
and deleted with its id in ``HandledIds`` once handled, in the same transaction. On start the
leftovers are handed to the listeners again; the handled ids keep a redelivery from running
twice. The ack never waits long: after ``WAIT`` seconds (the database busy or away) the event
is acked unstored, as before, since Slack wants its ack within 3 seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.core.clock import Clock
from bot.db.inserts import insert_ignore
from bot.db.models import InboxEvent
from bot.db.uow import UnitOfWork

log = logging.getLogger("steward.inbox")
WAIT = 2.0
"""Seconds an ack waits for its event to be stored (Slack's deadline is 3)."""
KEEP_FOR = timedelta(days=1)
"""A leftover older than this is dropped on start, not handed over (like the handled ids)."""


class Inbox:
    """Events written before their ack; the leftovers of a killed process read back."""

    def __init__(self, sessions: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self._pending: dict[str, tuple[str, asyncio.Future[None]]] = {}
        self._writing: asyncio.Task[None] | None = None
        self._failing = False

    async def keep(self, key: str, body: dict[str, Any]) -> bool:
        """Store the event before it is acked; False when it could not be in time."""
        stored = asyncio.get_running_loop().create_future()
        self._pending[key] = (json.dumps(body), stored)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write(), name="steward-inbox")
        try:
            await asyncio.wait_for(asyncio.shield(stored), WAIT)
        except Exception:
            if not self._failing:
                log.warning("an event is acked before it was stored (the database is slow)")
            self._failing = True
            return False
        self._failing = False
        return True

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            now = self.clock.now()
            rows = [
                {"key": key, "body": body, "received_at": now}
                for key, (body, _) in sorted(batch.items())
            ]
            try:
                async with self.sessions() as uow:
                    await insert_ignore(uow.session, InboxEvent, rows)
                    await uow.commit()
            except Exception as exc:
                log.warning("storing %d events before their ack failed: %s", len(batch), exc)
                for _, done in batch.values():
                    if not done.done():
                        done.set_exception(exc)
                        done.exception()  # retrieved: the waiter may have given up
                continue
            for _, done in batch.values():
                if not done.done():
                    done.set_result(None)

    async def leftovers(self) -> list[dict[str, Any]]:
        """The bodies stored and not handled (a process was killed), oldest first; those
        older than ``KEEP_FOR`` are deleted instead."""
        cutoff = self.clock.now() - KEEP_FOR
        async with self.sessions() as uow:
            await uow.session.execute(delete(InboxEvent).where(InboxEvent.received_at < cutoff))
            rows = await uow.session.scalars(
                select(InboxEvent.body).order_by(InboxEvent.received_at, InboxEvent.key)
            )
            bodies = [json.loads(body) for body in rows]
            await uow.commit()
        return bodies
