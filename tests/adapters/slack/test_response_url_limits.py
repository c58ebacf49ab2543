"""A response_url works five times within 30 minutes; after that Steward still answers."""

from __future__ import annotations

from typing import Any

from bot.builtin import Steward
from bot.core import CommandContext, Feature, command
from tests.adapters.slack.conftest import StartWorld


class Chatty(Feature, name="chatty"):
    """Answers one command with seven messages."""

    @command("count")
    async def count(self, ctx: CommandContext[Any]) -> None:
        """Count to seven, privately."""
        for n in range(1, 8):
            await ctx.reply(f"{n}", ephemeral=True)


async def test_after_five_posts_the_answer_goes_on_through_the_web_api(
    start_world: StartWorld,
) -> None:
    world = await start_world([Steward(), Chatty()])
    await world.fake.slash(world.alice, "/chatty", "count")
    await world.settle()
    seen = world.fake.ephemerals_of(world.alice)
    assert [e.text for e in seen] == [str(n) for n in range(1, 8)]
    assert [e.via for e in seen] == ["response_url"] * 5 + ["chat.postEphemeral"] * 2


async def test_an_expired_response_url_still_gets_the_member_their_answer(
    start_world: StartWorld,
) -> None:
    world = await start_world([Steward(), Chatty()])
    world.fake.response_url_ttl = 0.0  # as if the command took more than 30 minutes
    await world.fake.slash(world.alice, "/chatty", "count")
    await world.settle()
    seen = world.fake.ephemerals_of(world.alice)
    assert [e.text for e in seen] == [str(n) for n in range(1, 8)]
    assert {e.via for e in seen} == {"chat.postEphemeral"}
