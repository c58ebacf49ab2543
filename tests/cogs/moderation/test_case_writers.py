"""Two units of work writing on one case at the same moment (a member's leaving, handled while
the kick that caused it is recorded): both moves land in the case's history, numbered in turn.
Two cases opened at the same moment in one community both land too, with the next numbers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import Select, select, text

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
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
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


async def _at_once(
    db: Database,
    postgres: bool,
    write: Callable[[str, Callable[[], Awaitable[None]]], Awaitable[int]],
) -> list[int]:
    """``write("first", hold)`` flushes and holds; ``write("second", ...)`` then runs into it;
    the first commits once the second waits. What both return, sorted."""
    flushed, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        flushed.set()
        await release.wait()

    async def go_on() -> None:
        return None

    first = asyncio.create_task(write("first", hold))
    await flushed.wait()
    second = asyncio.create_task(write("second", go_on))
    await _second_is_waiting(db, postgres)
    release.set()
    return sorted(await asyncio.gather(first, second))


async def _rows(db: Database, query: Select[tuple[int, str]]) -> list[tuple[int, str]]:
    async with db.reads() as uow:
        return [(r[0], r[1]) for r in (await uow.session.execute(query)).all()]


async def test_two_writers_on_one_case_at_once_both_land(database_url: str) -> None:
    db = Database(database_url)
    try:
        case_id = await _community_with_a_case(db)

        async def write(move: str, then: Callable[[], Awaitable[None]]) -> int:
            async with db.uow() as uow:
                row = await uow.session.get(ModerationCase, case_id)
                assert row is not None
                version = await Repo(uow.session, COMMUNITY).record(
                    row, move=move, before="open", after="open", actor="2", at=AT, key=move
                )
                await then()
                await uow.commit()
                return version

        postgres = database_url.startswith("postgresql")
        assert await _at_once(db, postgres, write) == [1, 2]
        rows = await _rows(
            db,
            select(ModerationCaseEvent.version, ModerationCaseEvent.move)
            .where(ModerationCaseEvent.case_id == case_id)
            .order_by(ModerationCaseEvent.version),
        )
        assert rows == [(1, "first"), (2, "second")]
    finally:
        await db.dispose()


async def test_two_cases_opened_at_once_take_the_next_two_numbers(database_url: str) -> None:
    db = Database(database_url)
    try:
        await _community_with_a_case(db)

        async def open_case(target: str, then: Callable[[], Awaitable[None]]) -> int:
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
                await then()
                await uow.commit()
                return case.number

        postgres = database_url.startswith("postgresql")
        assert await _at_once(db, postgres, open_case) == [2, 3]
        rows = await _rows(
            db,
            select(ModerationCase.number, ModerationCase.target_id)
            .where(ModerationCase.community_id == COMMUNITY.key)
            .order_by(ModerationCase.number),
        )
        assert rows == [(1, "2"), (2, "first"), (3, "second")]
    finally:
        await db.dispose()
