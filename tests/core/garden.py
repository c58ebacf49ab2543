"""A small feature used only by the core tests: every kind of declaration, some of them broken."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from bot.core import (
    ChannelRef,
    CommandContext,
    Context,
    Feature,
    FeatureSettings,
    JobContext,
    Level,
    Member,
    MemberJoined,
    Message,
    UserError,
    command,
    job,
    on,
    timer,
)


class GardenSettings(FeatureSettings):
    """Settings of the test garden."""

    greeting: str = "Welcome to the garden"
    """What newcomers are told."""

    channel: ChannelRef | None = None
    """Where the garden posts."""

    limit: int = 3
    """How many plants a member may have."""

    cooldown: timedelta = timedelta(minutes=10)
    """How long between waterings."""

    mode: Literal["quiet", "loud"] = "quiet"
    """How chatty the garden is."""


class Garden(Feature, name="garden"):
    """A test feature."""

    Settings = GardenSettings

    @command("plant")
    async def plant(
        self, ctx: CommandContext[GardenSettings], seed: Annotated[str, "What to plant"]
    ) -> None:
        """Plant a seed."""
        await ctx.reply(f"{ctx.settings.greeting}: planted {seed}")

    @command("prune", requires=Level.MOD)
    async def prune(
        self, ctx: CommandContext[GardenSettings], member: Annotated[Member, "Whose plants"]
    ) -> None:
        """Prune someone's plants."""
        await ctx.reply(f"pruned {member.display_name}")

    @command("boom")
    async def boom(self, ctx: CommandContext[GardenSettings]) -> None:
        """Fail in an unexpected way."""
        raise RuntimeError("internal detail: password=hunter2 at /srv/garden.py")

    @command("half")
    async def half(self, ctx: CommandContext[GardenSettings]) -> None:
        """Say it worked, then fail before the work is committed."""
        await ctx.reply("Saved!")
        raise RuntimeError("the commit never happens")

    @command("oops")
    async def oops(self, ctx: CommandContext[GardenSettings]) -> None:
        """Fail in a way the member can fix."""
        raise UserError("Pick a seed first.")

    @command("water")
    async def water(
        self,
        ctx: CommandContext[GardenSettings],
        after: Annotated[timedelta, "When to water"],
        fail: Annotated[bool, "Fail after scheduling"] = False,
    ) -> None:
        """Water later."""
        await ctx.timers.schedule(
            "water",
            at=ctx.clock.now() + after,
            key=f"water:{ctx.actor.ref.id}",
            payload={"user": ctx.actor.ref.id},
        )
        if fail:
            raise UserError("The can is empty; nothing was scheduled.")
        await ctx.reply("I'll water it.")

    @timer("water")
    async def watered(self, ctx: JobContext[GardenSettings], payload: dict[str, Any]) -> None:
        """Tell the member their plant was watered."""
        channel = ChannelRef(ctx.community, "garden")
        await ctx.port.send(channel, Message(text=f"watered for {payload['user']}"))

    @job(every=timedelta(hours=1))
    async def hourly(self, ctx: JobContext[GardenSettings]) -> None:
        """Post the hourly garden report."""
        await ctx.port.send(ChannelRef(ctx.community, "garden"), Message(text="hourly report"))

    @on(MemberJoined)
    async def broken_greeting(self, ctx: Context[GardenSettings], event: MemberJoined) -> None:
        """A listener with a bug."""
        raise ValueError("listener bug")

    @on(MemberJoined)
    async def greet(self, ctx: Context[GardenSettings], event: MemberJoined) -> None:
        """Greet the newcomer."""
        await ctx.port.dm(event.member.ref, Message(text=ctx.settings.greeting))
