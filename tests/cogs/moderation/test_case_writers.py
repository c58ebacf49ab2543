"""Two units of work writing on one case at the same moment (a member's leaving, handled while
the kick that caused it is recorded): both moves land in the case's history, numbered in turn.
Two cases opened at the same moment in one community both land too, with the next numbers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, text

from bot.core import CommunityRef
from bot.db.engine import Database
from bot.db.models import Community
from cogs.moderation._models import ModerationCase, ModerationCaseEvent
from cogs.moderation._repo import Repo

COMMUNITY = CommunityRef("discord", "1")
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _second_is_waiting(db: Database, postgres: bool) -> None:
    """Until the second writer waits on the first (PostgreSQL: on the version's unique index)."""
    if not postgres:
        await asyncio.sleep(0.2)  # SQLite: the second waits for the write lock whenever it asks
        return
    for _ in range(200):
        async with db.reads() as uow:
            waiting = await uow.session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second writer never waited on the first")


async def _community_with_a_case(db: Database) -> int:
    """The community, with case #1 opened; the case's row id."""
    async with db.uow() as uow:
        uow.session.add(
            Community(id=COMMUNITY.key, platform="discord", external_id="1", first_seen=AT)
        )
        await uow.session.flush()
        case = await Repo(uow.session, COMMUNITY).open(
            kind="kick", target="2", actor="3", reason="rude", points=0, status="open", at=AT
        )
        await uow.commit()
        return case.id


async def test_two_writers_on_one_case_at_once_both_land(database_url: str) -> None:
    db = Database(database_url)
    try:
        case_id = await _community_with_a_case(db)
        flushed, release = asyncio.Event(), asyncio.Event()

        async def write(key: str, move: str, hold: bool) -> int:
            async with db.uow() as uow:
                row = await uow.session.get(ModerationCase, case_id)
                assert row is not None
                version = await Repo(uow.session, COMMUNITY).record(
                    row, move=move, before="open", after="open", actor="2", at=AT, key=key
                )
                if hold:
                    flushed.set()
                    await release.wait()
                await uow.commit()
                return version

        first = asyncio.create_task(write("action", "action", hold=True))
        await flushed.wait()
        second = asyncio.create_task(write("left", "left", hold=False))
        await _second_is_waiting(db, database_url.startswith("postgresql"))
        release.set()
        assert sorted(await asyncio.gather(first, second)) == [1, 2]
        async with db.reads() as uow:
            rows = (
                await uow.session.execute(
                    select(ModerationCaseEvent.version, ModerationCaseEvent.move)
                    .where(ModerationCaseEvent.case_id == case_id)
                    .order_by(ModerationCaseEvent.version)
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, "action"), (2, "left")]
    finally:
        await db.dispose()


async def test_two_cases_opened_at_once_take_the_next_two_numbers(database_url: str) -> None:
    db = Database(database_url)
    try:
        await _community_with_a_case(db)
        flushed, release = asyncio.Event(), asyncio.Event()

        async def open_case(target: str, hold: bool) -> int:
            async with db.uow() as uow:
                case = await Repo(uow.session, COMMUNITY).open(
                    kind="warn",
                    target=target,
                    actor="3",
                    reason="x",
                    points=1,
                    status="open",
                    at=AT,
                )
                if hold:
                    flushed.set()
                    await release.wait()
                await uow.commit()
                return case.number

        first = asyncio.create_task(open_case("4", hold=True))
        await flushed.wait()
        second = asyncio.create_task(open_case("5", hold=False))
        await _second_is_waiting(db, database_url.startswith("postgresql"))
        release.set()
        assert sorted(await asyncio.gather(first, second)) == [2, 3]
        async with db.reads() as uow:
            rows = (
                await uow.session.execute(
                    select(ModerationCase.number, ModerationCase.target_id)
                    .where(ModerationCase.community_id == COMMUNITY.key)
                    .order_by(ModerationCase.number)
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, "2"), (2, "4"), (3, "5")]
    finally:
        await db.dispose()
