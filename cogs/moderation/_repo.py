"""Reading and writing cases and their audit rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import CommunityRef
from cogs.moderation._lifecycle import Status
from cogs.moderation._models import ModerationCase, ModerationCaseEvent

_Row = TypeVar("_Row", ModerationCase, ModerationCaseEvent)

_TRIES = 8
"""Numbers tried when other cases are being opened at the same moment."""


class Repo:
    """One community's cases."""

    def __init__(self, session: AsyncSession, community: CommunityRef) -> None:
        self.session = session
        self.community = community

    async def open(
        self,
        *,
        kind: str,
        target: str,
        actor: str,
        reason: str,
        points: int,
        status: str,
        at: datetime,
    ) -> ModerationCase:
        """A new case with the community's next number. Two cases opened at once (events about
        different members are handled side by side) may pick the same number: the unique
        constraint refuses the second, which takes the next number inside a savepoint."""

        def build(number: int) -> ModerationCase:
            return ModerationCase(
                community_id=self.community.key,
                number=number,
                kind=kind,
                target_id=target,
                actor_id=actor,
                reason=reason,
                points=points,
                status=status,
                created_at=at,
            )

        last = select(func.max(ModerationCase.number)).where(
            ModerationCase.community_id == self.community.key
        )
        return await self._insert_next(last, build)

    async def open_flag(
        self,
        *,
        kind: str,
        move: str,
        target: str,
        actor: str,
        reason: str,
        evidence: str | None,
        at: datetime,
    ) -> ModerationCase:
        """An open case a member or moderator raised (a report, an escalation), with the
        picked message's snapshot as its evidence row when there is one."""
        case = await self.open(
            kind=kind,
            target=target,
            actor=actor,
            reason=reason,
            points=0,
            status=Status.OPEN,
            at=at,
        )
        if evidence is not None:
            await self.record(
                case,
                move=move,
                actor=actor,
                at=at,
                key="evidence",
                note=evidence,
            )
        return case

    async def record(
        self,
        case: ModerationCase,
        *,
        move: str,
        actor: str,
        at: datetime,
        key: str,
        note: str | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> int:
        """Add an audit row to ``case`` and return its version (versions count every row);
        ``before`` and ``after`` default to the case's status (a note that doesn't move it).

        Another unit of work may be writing on the same case at this moment (a member's leaving
        while the kick that caused it is recorded): a clash on the version takes the next one."""

        def build(version: int) -> ModerationCaseEvent:
            return ModerationCaseEvent(
                case_id=case.id,
                version=version,
                move=move,
                before=case.status if before is None else before,
                after=case.status if after is None else after,
                actor_id=actor,
                at=at,
                key=key,
                note=note,
            )

        count = select(func.count()).where(ModerationCaseEvent.case_id == case.id)
        return (await self._insert_next(count, build)).version

    async def _insert_next(self, last: Select[int], build: Callable[[int], _Row]) -> _Row:
        """Insert ``build(n)`` with ``n`` one past what ``last`` reads, inside a savepoint; when
        another unit of work took that number meanwhile (the unique constraint refuses the row),
        read again and take the next, up to ``_TRIES`` times."""
        for attempt in range(_TRIES):
            number = 1 + (await self.session.scalar(last) or 0)
            row = build(number)
            try:
                async with self.session.begin_nested():
                    self.session.add(row)
            except IntegrityError:
                if attempt == _TRIES - 1:
                    raise
                continue
            return row
        raise AssertionError("unreachable")

    async def case(self, number: int) -> ModerationCase | None:
        """Case ``number``, or None."""
        return await self.session.scalar(
            select(ModerationCase).where(
                ModerationCase.community_id == self.community.key, ModerationCase.number == number
            )
        )

    async def cases(
        self,
        target: str | None = None,
        *,
        actor: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 15,
    ) -> list[ModerationCase]:
        """The newest cases, filtered by target, actor, status and kind when given."""
        query = select(ModerationCase).where(ModerationCase.community_id == self.community.key)
        for column, value in (
            (ModerationCase.target_id, target),
            (ModerationCase.actor_id, actor),
            (ModerationCase.status, status),
            (ModerationCase.kind, kind),
        ):
            if value is not None:
                query = query.where(column == value)
        rows = await self.session.scalars(query.order_by(ModerationCase.number.desc()).limit(limit))
        return list(rows)

    async def count(self, kind: str, *, actor: str, since: datetime) -> int:
        """How many cases of ``kind`` ``actor`` opened since ``since`` (reports per day)."""
        found = await self.session.scalar(
            select(func.count()).where(
                ModerationCase.community_id == self.community.key,
                ModerationCase.kind == kind,
                ModerationCase.actor_id == actor,
                ModerationCase.created_at > since,
            )
        )
        return found or 0

    async def lifted(self, user: str, *, since: datetime) -> bool:
        """Whether a ban of ``user`` was lifted (an actioned ``unban`` case) since ``since``."""
        found = await self.session.scalar(
            select(ModerationCase.id)
            .where(
                ModerationCase.community_id == self.community.key,
                ModerationCase.kind == "unban",
                ModerationCase.target_id == user,
                ModerationCase.status == "actioned",
                ModerationCase.created_at >= since,
                ModerationCase.voided.is_(False),
            )
            .limit(1)
        )
        return found is not None

    async def barred(self, user: str) -> bool:
        """Whether ``user`` is barred from reporting (a live ``reportbar`` case on them)."""
        found = await self.session.scalar(
            select(ModerationCase.id)
            .where(
                ModerationCase.community_id == self.community.key,
                ModerationCase.kind == "reportbar",
                ModerationCase.target_id == user,
                ModerationCase.voided.is_(False),
            )
            .limit(1)
        )
        return found is not None

    async def since(
        self, since: datetime
    ) -> list[tuple[ModerationCase, list[ModerationCaseEvent]]]:
        """Cases opened after ``since``, and open ones of any age, each with its audit rows."""
        rows = list(
            await self.session.scalars(
                select(ModerationCase).where(
                    ModerationCase.community_id == self.community.key,
                    or_(ModerationCase.created_at > since, ModerationCase.status == "open"),
                )
            )
        )
        events: dict[int, list[ModerationCaseEvent]] = {row.id: [] for row in rows}
        if rows:
            found = await self.session.scalars(
                select(ModerationCaseEvent)
                .where(ModerationCaseEvent.case_id.in_(list(events)))
                .order_by(ModerationCaseEvent.case_id, ModerationCaseEvent.version)
            )
            for event in found:
                events[event.case_id].append(event)
        return [(row, events[row.id]) for row in rows]

    async def history(self, case: ModerationCase) -> list[ModerationCaseEvent]:
        """The case's audit rows, oldest first."""
        rows = await self.session.scalars(
            select(ModerationCaseEvent)
            .where(ModerationCaseEvent.case_id == case.id)
            .order_by(ModerationCaseEvent.version)
        )
        return list(rows)
