"""Buttons, selects and forms in DMs: the custom_id names the guild, and only its members count."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.convert import scope_component_id, unscope_component_id
from bot.builtin import Steward
from bot.core import (
    Button,
    CommandContext,
    Feature,
    Form,
    Message,
    Option,
    Pressed,
    Select,
    TextInput,
    command,
    component,
)
from sandbox.discord import Message as FakeMessage
from sandbox.discord.payloads import user as user_payload
from tests.adapters.discord.conftest import StartWorld
from tests.adapters.discord.world import World


def _who(ctx: CommandContext[Any], press: Pressed) -> str:
    return f"{press.community.key} {ctx.actor.ref.id} {ctx.actor.level.name} in {press.channel.id}"


class Postbox(Feature, name="postbox"):
    """Sends its buttons by DM, and says who pressed them where."""

    pressed = 0

    @command("mail")
    async def mail(self, ctx: CommandContext[Any]) -> None:
        """DM the invoker a button, a select and a form button."""
        await ctx.port.dm(
            ctx.actor.ref,
            Message(
                text="Your mail",
                buttons=(Button("open", "Open", value="7"), Button("write", "Write back")),
                selects=(
                    Select("pick", (Option("Red", "red"), Option("Blue", "blue")), max_values=2),
                ),
            ),
        )
        await ctx.reply("Sent.")

    @component("open")
    async def open(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The button."""
        Postbox.pressed += 1
        await ctx.reply(f"open {press.value} by {_who(ctx, press)}")

    @component("pick")
    async def pick(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The select."""
        await ctx.reply(f"picked {','.join(press.values)} by {_who(ctx, press)}")

    @component("write")
    async def write(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """Open a form from the DM."""
        await ctx.open_form(
            Form("letter", "Write back", inputs=(TextInput("text", "Your letter"),))
        )

    @component("letter")
    async def letter(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The form came back."""
        await ctx.reply(f"letter {press.fields['text']!r} by {_who(ctx, press)}")


@pytest.fixture
async def world(start_world: StartWorld) -> World:
    """Steward and the postbox."""
    Postbox.pressed = 0
    return await start_world([Steward(), Postbox()])


async def _mail(world: World, who: Any) -> FakeMessage:
    sent = await world.fake.invoke_slash(who, world.guild, "postbox mail")
    await sent.wait()
    assert sent.text == "Sent."
    return world.fake.dms_of(who)[-1]


def _scoped(message: FakeMessage, action: str) -> str:
    return next(c for c in message.custom_ids() if c.split(":")[2] == action)


async def test_dm_button_and_select_reach_the_feature_as_the_guild_member(world: World) -> None:
    fake, guild = world.fake, world.guild
    where = f"discord:{guild.id}"
    dm = await _mail(world, world.alice)
    for custom_id in dm.custom_ids():
        assert custom_id.startswith("steward@") and len(custom_id) <= 100
        assert unscope_component_id(custom_id)[0] == int(guild.id)

    pressed = await fake.click(world.alice, dm, _scoped(dm, "open"))
    await pressed.wait()
    assert pressed.ephemeral
    assert pressed.text == f"open 7 by {where} {world.alice.id} MEMBER in {dm.channel_id}"
    picked = await fake.select(world.alice, dm, _scoped(dm, "pick"), ["red", "blue"])
    await picked.wait()
    assert picked.text == f"picked red,blue by {where} {world.alice.id} MEMBER in {dm.channel_id}"

    # The admin's level comes from the guild, though the press came from a DM.
    theirs = await _mail(world, world.admin)
    pressed = await fake.click(world.admin, theirs, _scoped(theirs, "open"))
    await pressed.wait()
    assert pressed.text == f"open 7 by {where} {world.admin.id} ADMIN in {theirs.channel_id}"


async def test_a_form_opened_from_a_dm_comes_back_to_the_guild(world: World) -> None:
    fake, guild = world.fake, world.guild
    dm = await _mail(world, world.alice)
    opened = await fake.click(world.alice, dm, _scoped(dm, "write"))
    await opened.wait()
    assert opened.modal is not None and opened.modal["custom_id"].startswith("steward@")
    sent = await fake.submit_modal(world.alice, opened, {"text": "Dear garden"})
    await sent.wait()
    assert sent.ephemeral
    assert sent.text == (
        f"letter 'Dear garden' by discord:{guild.id} {world.alice.id} MEMBER in {dm.channel_id}"
    )


async def test_strangers_and_leavers_pressing_scoped_ids_are_refused(world: World) -> None:
    fake, guild = world.fake, world.guild
    mallory = fake.add_user("mallory")  # shares no server with the bot's guild
    forged = scope_component_id("steward:postbox:open:7", int(guild.id))
    message = fake.world.add_message(
        FakeMessage(
            id=fake.world.new_id(),
            channel_id=fake.world.dm_channel(mallory).id,
            guild_id=None,
            author=user_payload(fake.bot),
            content="forged",
            components=[
                {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": c}]}
                for c in (forged, "steward:postbox:open:7")
            ],
        )
    )
    refused = await fake.click(mallory, message, forged)
    await refused.wait()
    assert refused.ephemeral and "a server you're not a member of" in refused.text
    unscoped = await fake.click(mallory, message, "steward:postbox:open:7")
    await unscoped.wait()
    assert unscoped.ephemeral and unscoped.text == "That only works inside a server."

    dm = await _mail(world, world.alice)
    await fake.member_leaves(guild, world.alice)
    await fake.settle()
    gone = await fake.click(world.alice, dm, _scoped(dm, "open"))
    await gone.wait()
    assert "a server you're not a member of" in gone.text
    assert Postbox.pressed == 0


def test_scoped_ids_round_trip_and_stay_within_discord_limits() -> None:
    guild = 1_234_567_890_123_456_789
    scoped = scope_component_id("steward:onboarding:talked:987654321098765432", guild)
    assert unscope_component_id(scoped) == (guild, "steward:onboarding:talked:987654321098765432")
    assert unscope_component_id("steward:a:b:c") == (None, "steward:a:b:c")
    for odd in ("steward@:a:b", "steward@+1:a:b", "steward@AB:a:b", "other@1:a:b"):
        assert unscope_component_id(odd) == (None, odd)
    with pytest.raises(ValueError, match="100 characters"):
        scope_component_id("steward:a:b:" + "v" * 80, guild)
