"""Several "processes" (each an App of its own, :class:`~tests.core.harness.Harness`) on one
database, sharing the outbox's rows: queue rows, move every clock, read the rows back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

import bot.core.outbox
from bot.core import Message
from bot.core.communities import ensure_community
from bot.core.outbox import Outbox
from bot.db.models import OutboxItem
from tests.core.harness import Harness

RENEW = 0.05
"""Seconds between renewals here (5 s in production): the tests move the clocks by hand."""


def renew_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims renewed every ``RENEW`` seconds of real time."""
    monkeypatch.setattr(bot.core.outbox, "RENEW_EVERY", timedelta(seconds=RENEW))


def advance(running: Sequence[Harness], delta: timedelta) -> None:
    """Move every process's clock."""
    for harness in running:
        harness.clock.advance(delta)


async def queue(harness: Harness, *texts: str) -> None:
    """Rows in one channel's lane, queued with no sender: every process finds them due."""
    async with harness.app.db.uow() as uow:
        await ensure_community(uow.session, harness.community, harness.clock.now())
        outbox = Outbox(uow, harness.community, "garden", harness.clock, None)
        for text in texts:
            await outbox.deliver(harness.channel, Message(text=text), key=text)
        await uow.commit()


async def rows(harness: Harness) -> list[OutboxItem]:
    """Every outbox row, in the order queued."""
    async with harness.app.db.uow() as uow:
        found = list(await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        uow.session.expunge_all()
        return found


async def settle(*running: Harness) -> None:
    """Each process sends what is due and records it."""
    for harness in running:
        await harness.app.dispatcher.deliverer.run_due()
        await harness.app.dispatcher.activity.wait_idle()
