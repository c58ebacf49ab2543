"""The kept gateway session's watermark reaches the database even when nothing follows.

A dispatch's listeners may still run when the periodic save (at most once a second) writes the
watermark; when they end and no dispatch comes after (a quiet guild), the watermark they moved
must still be saved, or a restart replays what was already handled and anything waiting for the
kept watermark waits for ever.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.adapters.discord import resume
from bot.adapters.discord.resume import SessionKeeper
from bot.core.clock import SystemClock
from bot.db.engine import Database
from bot.db.models import GatewaySession
from tests.conftest import until


async def test_a_watermark_moved_by_a_last_listener_ending_is_saved(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resume, "SAVE_EVERY", 0.05)  # the save's pace is not what is tested
    db = Database(database_url)

    async def written() -> bool:
        return True

    async def saved() -> int:
        async with db.uow() as uow:
            return int(await uow.session.scalar(select(GatewaySession.seq)) or 0)

    keeper = SessionKeeper(db.uow, SystemClock(), written)
    keeper.bot_id = "bot-1"
    release = asyncio.Event()
    listener = asyncio.create_task(release.wait())
    try:
        keeper.received(0, "session-1", "wss://gateway.example/", 1, [])
        keeper.received(0, "session-1", "wss://gateway.example/", 2, [listener])
        await until(lambda: keeper._saving is None or keeper._saving.done(), "the save to end")
        assert await saved() == 1  # the second dispatch's listener still runs
        release.set()  # it ends; no dispatch follows

        async def moved() -> bool:
            return await saved() == 2

        await until(moved, "the watermark the listener's end moved to be saved", within=10)
    finally:
        release.set()
        await keeper.close()
        await db.dispose()
