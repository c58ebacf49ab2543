"""Events a killed Steward left in the inbox are handled side by side, each member's in order.

A start hands the inbox's leftovers to as many lanes at once as the dispatcher has workers;
a lane is the intake's (one member of a workspace), and a lane's events are handled one after
the other in the order they came, as live events are.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from bot.builtin import Steward
from bot.core import Context, Feature, MessagePosted, on
from bot.core.message import Message
from sandbox.slack import payloads
from tests.adapters.slack.conftest import StartWorld

POSTS = 5
PEOPLE = ("ana", "ben", "cy", "dee")


class Parrot(Feature, name="parrot"):
    """Repeats every message in its channel; a member's later messages take less time to
    handle than their earlier ones, so handling one member's messages side by side would
    repeat them out of order."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0
        self.most = 0

    @on(MessagePosted)
    async def repeat(self, ctx: Context[Any], event: MessagePosted) -> None:
        """Say what was heard."""
        _who, number = event.text.split()
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.02 * (POSTS - int(number)))
        finally:
            self.now -= 1
        await ctx.port.send(event.message.channel, Message(text=f"heard {event.text}"))


async def test_leftovers_of_several_members_are_handled_side_by_side_each_in_order(
    start_world: StartWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await start_world([Steward(), Parrot()])
    fake = world.fake
    people = [fake.add_user(name) for name in PEOPLE]
    await world.app.stop()

    envelopes: list[dict[str, Any]] = []

    async def taken_in(team_id: str, event: dict[str, Any]) -> Any:
        """The stopped process took the event in (stored it) and was killed before handling."""
        envelope = payloads.event_callback(fake.world.teams[team_id], event, fake.next_event_id())
        envelopes.append(envelope)

    with monkeypatch.context() as patch:
        patch.setattr(fake, "deliver_event", taken_in)
        for n in range(POSTS):  # the members' posts interleaved, as they came
            for person in people:
                await fake.user_says(person, "general", f"{person.name} {n}")
    await world.leave_in_inbox(envelopes)

    parrot = Parrot()
    app = await world.restart([Steward(), parrot])
    try:
        general = fake.general().id

        def heard() -> list[str]:
            return [m.text for m in fake.world.messages[general] if m.text.startswith("heard")]

        with contextlib.suppress(TimeoutError):  # the assertions below say what is missing
            await fake.wait_for(lambda: len(heard()) >= POSTS * len(PEOPLE), 60)
        await world.settle()
        for person in people:
            theirs = [t for t in heard() if t.split()[1] == person.name]
            assert theirs == [f"heard {person.name} {n}" for n in range(POSTS)], person.name
        assert len(heard()) == POSTS * len(PEOPLE)  # each once
        assert parrot.most > 1  # members' events side by side
    finally:
        await app.stop()
