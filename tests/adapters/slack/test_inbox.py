"""Slack's ack goes out only once the event is stored: a kill never loses an acked event.

Slack takes an acked event as delivered and never sends it again. Steward stores each event in
its inbox (``bot.core.inbox``) before the ack; while the database is slow the ack is withheld
and Slack sends the event again; rows a stopped Steward left are handled when it starts, each
once (each member's in the order they came).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from bot.app import App
from bot.builtin import Steward
from bot.core import FakeClock
from bot.core.activity import Activity
from bot.core.inbox import LEASE, Inbox
from bot.db.engine import Database
from bot.db.models import HandledEvent, InboxEvent
from bot.db.uow import UnitOfWork
from sandbox.slack import payloads
from tests.adapters.desk import Desk
from tests.adapters.slack.conftest import SlackWorld
from tests.core.garden import Garden

WELCOMED = ["Welcome to the garden", "Welcome, {}!"]


def welcomes(world: SlackWorld, user: object) -> list[str]:
    return sorted(m.text for m in world.fake.dms_of(user))  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def inbox_held(url: str, seconds: float) -> AsyncIterator[None]:
    """Another connection holds the inbox table for ``seconds``: Steward's store of an event
    waits (the database is slow, not away: it answers other queries)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path is not None
        lock = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")

        async def release() -> None:
            await asyncio.sleep(seconds)
            lock.execute("ROLLBACK")
            lock.close()

    else:
        db = Database(url)
        conn = await db.engine.connect()
        await conn.begin()
        await conn.execute(text("LOCK TABLE inbox_events IN EXCLUSIVE MODE"))

        async def release() -> None:
            await asyncio.sleep(seconds)
            await conn.rollback()
            await conn.close()
            await db.dispose()

    task = asyncio.create_task(release())
    try:
        yield
    finally:
        await task


async def rows(app: App) -> list[str]:
    async with app.db.reads() as uow:
        return list(await uow.session.scalars(select(InboxEvent.key).order_by(InboxEvent.id)))


async def test_a_slow_database_withholds_the_ack_and_the_redelivery_is_handled_once(
    world: SlackWorld, database_url: str
) -> None:
    """The store takes longer than its bound: no ack (Slack would think it delivered), Slack
    sends it again, and once stored it is acked and the newcomer is welcomed once."""
    fake = world.fake
    nina = fake.add_user("nina", in_general=False)
    envelope = payloads.event_callback(
        fake.team, {"type": "team_join", "user": nina.to_api(), "event_ts": "1.1"}, "Ev0SLOW"
    )
    async with inbox_held(database_url, 2.5):
        delivery = await fake.deliver("event", envelope)
    await world.settle()
    outcomes = [a.outcome for a in delivery.attempts]
    assert outcomes[0] == "timeout", outcomes  # not acked while its row was not stored
    assert delivery.ok, outcomes  # a later try was acked, once stored
    assert welcomes(world, nina) == sorted(w.format("nina") for w in WELCOMED)
    assert world.app.dispatcher.database.away is False  # slow is not away
    assert await rows(world.app) == []  # handled: its row is gone, its id noted
    async with world.app.db.reads() as uow:
        noted = set(await uow.session.scalars(select(HandledEvent.key)))
    assert "slack:Ev0SLOW" in noted


async def test_a_newcomers_channel_join_messages_are_acked_without_a_row(
    world: SlackWorld, database_url: str
) -> None:
    """A join brings a ``channel_join`` message for each channel the newcomer is brought
    into; Steward does nothing with them, so they are acked at once without an inbox row, even
    while the database is slow (in a join storm they would queue for SQLite's one writer with
    the welcomes). A post in the same channel meanwhile is stored before its ack, as ever."""
    fake = world.fake
    nina = fake.add_user("nina", in_general=False)
    general = fake.general()
    joined = {
        "type": "message",
        "subtype": "channel_join",
        "user": nina.id,
        "text": f"<@{nina.id}> has joined the channel",
        "ts": "2.1",
        "channel": general.id,
        "channel_type": "channel",
        "event_ts": "2.1",
    }
    said = {**joined, "ts": "2.2", "event_ts": "2.2", "text": "hello"}
    del said["subtype"]
    async with inbox_held(database_url, 2.5):
        join = await fake.deliver("event", payloads.event_callback(fake.team, joined, "Ev0JOIN"))
        post = await fake.deliver("event", payloads.event_callback(fake.team, said, "Ev0POST"))
    await world.settle()
    assert [a.outcome for a in join.attempts] == ["ok"]
    assert post.attempts[0].outcome == "timeout"  # stored before its ack: not acked at first
    assert post.ok


async def test_events_a_killed_steward_stored_are_handled_on_start_once(
    world: SlackWorld,
) -> None:
    """Killed after storing three joins (one acked, two not yet): the next start handles
    them (three members: side by side; one member's events in the order they came is
    ``test_leftovers_order``); Slack's redelivery of an unacked one is acked and not run
    again."""
    fake = world.fake
    await world.app.stop()
    people = [fake.add_user(name, in_general=False) for name in ("omar", "pia", "quinn")]
    envelopes = [
        payloads.event_callback(
            fake.team,
            {"type": "team_join", "user": p.to_api(), "event_ts": f"2.{i}"},
            f"Ev0LEFT{i}",
        )
        for i, p in enumerate(people)
    ]
    await world.leave_in_inbox(envelopes)  # what a process killed before its listeners ran left
    app = await world.restart([Steward(), Garden(), Desk()])
    try:
        await world.settle()
        again = await fake.deliver("event", envelopes[2])  # Slack's retry of the unacked one
        await world.settle()
        assert again.ok
        for p in people:
            assert welcomes(world, p) == sorted(w.format(p.name) for w in WELCOMED), p.name
        assert await rows(app) == []
    finally:
        await app.stop()


async def test_a_row_a_live_process_holds_is_left_to_it_and_taken_once_its_lease_passed(
    database_url: str,
) -> None:
    """Several processes on one database: a process starting up, or Slack sending an event
    again to another process, must not handle an event a live process is handling (it would
    run twice at once); a row whose owner stopped renewing (killed, or scaled away and never
    restarted) is handled by another process once its lease has passed."""
    db = Database(database_url)
    clock = FakeClock()

    async def written() -> bool:
        return True

    def process() -> Inbox:
        return Inbox(db.uow, clock, Activity(), written)  # solo=False: as on PostgreSQL

    first, second = process(), process()
    try:
        body = {"event_id": "Ev0LIVE", "event": {"type": "team_join"}}
        assert await first.store("slack:Ev0LIVE", "T1", body, 5.0) is True
        assert await second.leftovers() == []  # held by a live process
        assert await second.store("slack:Ev0LIVE", "T1", body, 5.0) is False  # left to it
        clock.advance(LEASE + timedelta(seconds=1))  # the first stopped renewing
        taken = await second.leftovers(starting=False)
        assert [t.key for t in taken] == ["slack:Ev0LIVE"]
        assert await process().leftovers() == []  # now the second's, and it renews it
    finally:
        await first.close()
        await second.close()
        await db.dispose()


async def test_handled_event_ids_are_kept_a_day_not_for_ever(database_url: str) -> None:
    """Each handled event's id is noted so a redelivery runs nothing; ids past their day go
    when handled events are cleared from the inbox (one row per Slack event would otherwise
    pile up for the life of the database)."""
    db = Database(database_url)
    clock = FakeClock()

    async def written() -> bool:
        return True

    inbox = Inbox(db.uow, clock, Activity(), written)
    try:
        async with db.uow() as uow:
            uow.session.add(HandledEvent(key="slack:Ev0OLD", expires_at=clock.now()))
            await uow.commit()
        assert await inbox.store("slack:Ev0NEW", "T1", {"event_id": "Ev0NEW"}, 5.0) is True
        inbox.done("slack:Ev0NEW")
        await inbox.close()
        async with db.reads() as uow:
            kept = set(await uow.session.scalars(select(HandledEvent.key)))
        assert kept == {"slack:Ev0NEW"}
    finally:
        await inbox.close()
        await db.dispose()


async def test_events_arriving_together_are_stored_together_and_acked_once_committed(
    database_url: str,
) -> None:
    """A burst (a join storm's events) while the database is busy: the events are stored in
    one transaction, not one each (on SQLite each would queue for the one writer), and no
    store answers (Slack's ack waits for it) before that transaction has committed."""
    db = Database(database_url)
    said: list[str] = []

    class Noted(UnitOfWork):
        async def commit(self) -> None:
            await super().commit()
            said.append("committed")

    async def written() -> bool:
        return True

    begun: list[object] = []
    event.listen(db.engine.sync_engine, "begin", begun.append)
    inbox = Inbox(lambda: Noted(db.sessions()), FakeClock(), Activity(), written)

    async def store(i: int) -> None:
        stored = await inbox.store(f"slack:Ev0BURST{i}", "T1", {"event_id": f"Ev0BURST{i}"}, 30)
        said.append(f"stored {stored}")

    try:
        async with inbox_held(database_url, 1.0):
            await asyncio.gather(*(store(i) for i in range(20)))
        assert said == ["committed"] + ["stored True"] * 20
        assert len(begun) < 5  # one transaction for the burst (not twenty)
        async with db.reads() as uow:
            kept = set(await uow.session.scalars(select(InboxEvent.key)))
        assert kept == {f"slack:Ev0BURST{i}" for i in range(20)}
    finally:
        await inbox.close()
        await db.dispose()


async def test_an_event_the_database_refuses_does_not_take_the_others_with_it(
    database_url: str,
) -> None:
    """Three events stored together, one of which the database cannot take (its body is not
    JSON): the other two are stored and acked; the refused one is not acked (Slack sends it
    again) and its store goes on trying."""
    db = Database(database_url)

    async def written() -> bool:
        return True

    inbox = Inbox(db.uow, FakeClock(), Activity(), written)
    bodies: list[dict[str, object]] = [
        {"event_id": "Ev0GOOD1"},
        {"event_id": "Ev0BAD", "event": {"odd": object()}},
        {"event_id": "Ev0GOOD2"},
    ]
    try:
        async with inbox_held(database_url, 0.5):  # all three wait for the same transaction
            stored = await asyncio.gather(
                *(inbox.store(f"slack:{b['event_id']}", "T1", b, 2.0) for b in bodies)
            )
        assert stored == [True, None, True]
        async with db.reads() as uow:
            kept = set(await uow.session.scalars(select(InboxEvent.key)))
        assert kept == {"slack:Ev0GOOD1", "slack:Ev0GOOD2"}
    finally:
        await inbox.close()
        await db.dispose()
