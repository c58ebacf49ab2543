"""Durable one-off timers, written in the handler's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select

from bot.core.clock import Clock
from bot.core.ids import CommunityRef
from bot.db.models import Timer
from bot.db.uow import UnitOfWork

Wake = Callable[[datetime], None]
_ADD = insert(cast(Table, Timer.__table__))
"""Built once, the row's values going as parameters: a join storm schedules a nudge per
newcomer, and adding an ORM object and flushing it cost more than running the insert."""
_TIMERS = cast(Table, Timer.__table__)
_CANCEL = delete(_TIMERS).where(
    _TIMERS.c.community_id == bindparam("timer_community"),
    _TIMERS.c.feature == bindparam("timer_feature"),
    _TIMERS.c.key == bindparam("timer_key"),
    _TIMERS.c.done_at.is_(None),
)
"""Built once too: scheduling a timer cancels the one of its key first (a nudge per join)."""


class Timers:
    """Schedule and cancel one feature's timers for one community, atomically with its writes."""

    def __init__(
        self, uow: UnitOfWork, community: CommunityRef, feature: str, clock: Clock, wake: Wake
    ) -> None:
        self._uow = uow
        self._community = community
        self._feature = feature
        self._clock = clock
        self._wake = wake

    async def schedule(
        self, name: str, *, at: datetime, key: str, payload: dict[str, Any] | None = None
    ) -> None:
        """Run ``@timer(name)`` at ``at``; scheduling the same key again replaces the old one."""
        await self.cancel(key)
        await self._uow.session.execute(
            _ADD,
            {
                "community_id": self._community.key,
                "feature": self._feature,
                "name": name,
                "key": key,
                "due_at": at,
                "payload": payload or {},
                "created_at": self._clock.now(),
                "attempts": 0,
            },
        )

        async def wake() -> None:
            self._wake(at)

        self._uow.after_commit(wake)

    async def cancel(self, key: str) -> bool:
        """Forget a pending timer; True when there was one."""
        result = await self._uow.session.execute(
            _CANCEL,
            {
                "timer_community": self._community.key,
                "timer_feature": self._feature,
                "timer_key": key,
            },
        )
        return bool(getattr(result, "rowcount", 0))

    async def due_at(self, key: str) -> datetime | None:
        """When a pending timer will run, or None."""
        row = await self._uow.session.scalar(
            select(Timer.due_at).where(
                Timer.community_id == self._community.key,
                Timer.feature == self._feature,
                Timer.key == key,
                Timer.done_at.is_(None),
            )
        )
        return row
