"""Slow handlers are deferred and still answered; errors after a public deferral stay private."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.builtin import Steward
from bot.core import CommandContext, Feature, UserError, command
from sandbox.discord import InteractionResult
from tests.adapters.discord.conftest import StartWorld
from tests.adapters.discord.world import World

DEFER_AFTER = 0.05


class Kiln(Feature, name="kiln"):
    """Commands that wait until the test lets them finish."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    @command("fire")
    async def fire(self, ctx: CommandContext[Any]) -> None:
        """Answer privately, slowly."""
        await self.release.wait()
        await ctx.reply("Fired: 3 bowls")

    @command("show", ephemeral=False)
    async def show(self, ctx: CommandContext[Any]) -> None:
        """Answer publicly, slowly, or fail in a way the member can fix."""
        await self.release.wait()
        raise UserError("The kiln is still cooling; try again later.")


async def _start(start_world: StartWorld) -> tuple[World, Kiln]:
    kiln = Kiln()
    world = await start_world([Steward(), kiln], defer_after=DEFER_AFTER)
    return world, kiln


async def _deferred(world: World, run: asyncio.Task[InteractionResult]) -> InteractionResult:
    fake = world.fake
    await fake.wait_for(lambda: any(r.deferred for r in fake.interactions.values()) or run.done())
    assert not run.done(), "the handler answered before it was released"
    [pending] = [r for r in fake.interactions.values() if r.deferred]
    return pending


async def test_a_slow_private_command_is_deferred_then_answered_privately(
    start_world: StartWorld,
) -> None:
    world, kiln = await _start(start_world)
    fake, guild = world.fake, world.guild
    run = asyncio.create_task(fake.invoke_slash(world.alice, guild, "kiln fire"))
    pending = await _deferred(world, run)
    # What alice sees meanwhile: Discord's private "Steward is thinking…" placeholder.
    assert pending.callback_type == 5 and pending.ephemeral and pending.content == ""
    kiln.release.set()
    done = await run
    assert done is pending
    assert done.text == "Fired: 3 bowls" and done.ephemeral
    general = guild.channel_named("general")
    assert fake.sees(world.admin, general) == []


async def test_an_error_after_a_public_deferral_is_shown_only_to_the_invoker(
    start_world: StartWorld,
) -> None:
    world, kiln = await _start(start_world)
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    run = asyncio.create_task(fake.invoke_slash(world.alice, guild, "kiln show"))
    pending = await _deferred(world, run)
    # The deferral of a public command is public: everyone sees it thinking.
    assert not pending.ephemeral
    assert [m.id for m in fake.sees(world.admin, general)] == [pending.original_id]
    kiln.release.set()
    done = await run
    error = "The kiln is still cooling; try again later."
    [followup] = done.followups
    assert followup.ephemeral and followup.content == error
    assert done.text == error
    # The public placeholder is gone and nobody else sees the error.
    assert fake.sees(world.admin, general) == []
    assert [m.content for m in fake.sees(world.alice, general)] == [error]
