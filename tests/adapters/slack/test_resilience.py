"""Socket Mode drops, Slack's redeliveries and 429 storms: nothing is lost, nothing runs twice."""

from __future__ import annotations

import random

import pytest

from bot.app import App
from bot.builtin import Steward
from bot.core import FakeClock
from bot.core.errors import Unavailable
from bot.core.ids import ChannelRef, CommunityRef, UserRef
from sandbox.slack import payloads
from tests.adapters.desk import Desk
from tests.adapters.slack.conftest import SlackWorld
from tests.core.garden import Garden


async def test_disconnects_mid_stream_lose_no_event_and_repeat_none(world: SlackWorld) -> None:
    fake = world.fake
    names = [f"newcomer{i}" for i in range(6)]
    people = [await fake.member_joins(names[0])]
    fake.drop_socket_mid_stream(1)  # the next envelope is lost with its connection
    people.append(await fake.member_joins(names[1]))
    people.append(await fake.member_joins(names[2]))
    await fake.socket_disconnect("refresh_requested")
    people += [await fake.member_joins(name) for name in names[3:]]
    await world.settle()
    assert fake.socket.connects >= 3
    for person in people:
        assert sorted(m.text for m in fake.dms_of(person)) == [
            "Welcome to the garden",
            f"Welcome, {person.name}!",
        ]


async def test_a_redelivered_event_is_handled_once(world: SlackWorld) -> None:
    """Slack redelivers an event whose ack it never saw: same event_id, a retry attempt."""
    fake = world.fake
    nina = fake.add_user("nina", in_general=False)
    envelope = payloads.event_callback(
        fake.team, {"type": "team_join", "user": nina.to_api(), "event_ts": "1.1"}, "Ev0000AGAIN"
    )
    first = await fake.deliver("event", envelope)
    again = await fake.deliver("event", envelope)
    await world.settle()
    assert first.ok and again.ok
    assert sorted(m.text for m in fake.dms_of(nina)) == ["Welcome to the garden", "Welcome, nina!"]


async def test_a_429_storm_delays_but_does_not_drop_a_post(
    world: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)  # no jitter in slack_sdk's retry sleep
    fake = world.fake
    fake.faults.rate_limit(3, retry_after=0, method="chat.postMessage")
    fake.faults.rate_limit(2, retry_after=0, method="users.info")
    await fake.slash(world.alice, "/desk", "echo still here")
    await world.settle()
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    assert [m.text for m in fake.messages_in("general")] == ["still here"]
    assert [e.text for e in fake.ephemerals_of(world.alice)] == ["Posted."]


async def test_a_redelivery_after_a_restart_is_not_handled_again(world: SlackWorld) -> None:
    """Steward handled an event, then restarted (its memory gone); Slack delivers the same
    event_id again: nothing runs twice. A new event for the same person still runs."""
    fake = world.fake
    nina = fake.add_user("nina", in_general=False)
    joined = {"type": "team_join", "user": nina.to_api(), "event_ts": "1.1"}
    envelope = payloads.event_callback(fake.team, joined, "Ev0000RESTART")
    await fake.deliver("event", envelope)
    await world.settle()
    assert len(fake.dms_of(nina)) == 2

    await world.app.stop()
    connects = fake.socket.connects
    app = App(world.app.config, clock=FakeClock(), features=[Steward(), Garden(), Desk()])
    await app.start(background=False)
    try:
        world.app = app
        await fake.wait_for(lambda: fake.socket.connected and fake.socket.connects > connects)
        again = await fake.deliver("event", envelope)
        await world.settle()
        assert again.ok
        assert sorted(m.text for m in fake.dms_of(nina)) == [
            "Welcome to the garden",
            "Welcome, nina!",
        ]
        # Not a guard of the features' own: the same join under a new id is handled.
        await fake.deliver_event(fake.team.id, joined)
        await world.settle()
        assert len(fake.dms_of(nina)) == 4
    finally:
        await app.stop()


async def test_a_slack_5xx_page_is_a_passing_outage_not_a_crash(world: SlackWorld) -> None:
    """Slack's 503 comes as an HTML page, not JSON: the port says Slack is unavailable (so the
    caller retries) instead of failing on the body it could not read."""
    fake = world.fake
    fake.faults.server_error(times=1, status=503, method="conversations.invite")
    community = CommunityRef("slack", fake.team.id)
    general = ChannelRef(community, fake.general().id)
    with pytest.raises(Unavailable):
        await world.adapter.port.add_to_channel(
            UserRef(community, world.bob.id), general, reason="test"
        )
    assert [c.status for c in fake.calls_to("conversations.invite")] == [503]


async def test_only_events_that_do_something_are_written_down_as_handled(
    world: SlackWorld,
) -> None:
    """A join brings a team_join and a member_joined_channel (Steward only acknowledges the
    latter): only the team_join's id is kept against a redelivery; the other costs no lookup
    and no row."""
    from sqlalchemy import select

    from bot.db.models import HandledEvent

    fake = world.fake
    nina = await fake.member_joins("nina")
    await world.settle()
    assert len(fake.dms_of(nina)) == 2
    ids = {
        str(d.payload["event"]["type"]): f"slack:{d.payload['event_id']}"
        for d in fake.deliveries
        if d.kind == "event"
    }
    assert {"team_join", "member_joined_channel"} <= set(ids)
    async with world.app.db.reads() as uow:
        kept = set(await uow.session.scalars(select(HandledEvent.key)))
    assert ids["team_join"] in kept
    assert ids["member_joined_channel"] not in kept
