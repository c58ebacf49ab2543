"""Whatever a feature asks to show, Steward sends Block Kit within Slack's documented limits."""

from __future__ import annotations

from typing import Any

from bot.builtin import Steward
from bot.core import Button, CommandContext, Feature, Form, Message, Option, Select, command
from bot.core.message import TextInput
from tests.adapters.slack.conftest import StartWorld


class Crowd(Feature, name="crowd"):
    """Shows more than Slack allows in one message or form."""

    @command("show", ephemeral=False)
    async def show(self, ctx: CommandContext[Any]) -> None:
        """Post an oversized message."""
        await ctx.port.send(
            ctx.channel,
            Message(
                title="T" * 400,
                text="x" * 5000,
                fields=tuple((f"name {i} " * 40, "v" * 2500) for i in range(60)),
                buttons=tuple(Button(f"b{i}", "L" * 120, value=str(i)) for i in range(30)),
                selects=(
                    Select(
                        "pick",
                        tuple(Option("o" * 120 + str(i), f"{i:03d}" * 60) for i in range(150)),
                        placeholder="p" * 300,
                        max_values=200,
                    ),
                ),
            ),
        )
        await ctx.reply("Shown.")

    @command("form")
    async def form(self, ctx: CommandContext[Any]) -> None:
        """Open an oversized form."""
        inputs = tuple(
            TextInput(f"k{i}", "label " * 500, placeholder="p" * 300, max_length=9000)
            for i in range(30)
        )
        await ctx.open_form(Form("f", "A title far longer than twenty-four", inputs))


async def test_an_oversized_message_and_form_stay_within_slacks_limits(
    start_world: StartWorld,
) -> None:
    world = await start_world([Steward(), Crowd()])
    fake = world.fake
    shown = await fake.slash(world.alice, "/crowd", "show")
    await world.settle()
    assert [s.text for s in shown.shown] == ["Shown."]
    posted = fake.messages_in("general")[0]  # then "Shown.", in the channel too
    blocks = posted.data["blocks"]
    assert blocks[0]["text"]["text"] == "T" * 149 + "…"  # the header, clipped to 150
    assert len([b for b in blocks if "fields" in b]) == 4  # 40 fields, 10 a section
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert len(actions["elements"]) == 25
    opened = await fake.slash(world.alice, "/crowd", "form")
    await world.settle()
    assert opened.error is None
    modal = fake.modal_of(world.alice)
    assert modal is not None and modal.data["title"]["text"] == "A title far longer than…"
    # The fixture fails the test on any Block Kit violation the fake found.
