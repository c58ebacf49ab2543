"""A small feature for adapter tests: buttons, selects, forms, echoes and a welcome DM."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Annotated, Any

from bot.core import (
    Button,
    CommandContext,
    Context,
    Feature,
    Form,
    Member,
    MemberJoined,
    Message,
    Option,
    Pressed,
    RoleRef,
    Select,
    TextInput,
    command,
    component,
    on,
)
from cogs.announcements._items import Item
from cogs.announcements._render import Look, post


class Desk(Feature, name="desk"):
    """A help desk used by the adapter tests."""

    @command("ask", ephemeral=False)
    async def ask(self, ctx: CommandContext[Any]) -> None:
        """Ask a question with a button and a select."""
        await ctx.reply(
            Message(
                text="Do you like it?",
                buttons=(Button("yes", "Yes", value="1", style="primary"),),
                selects=(
                    Select(
                        "pick",
                        options=(Option("Red", "red"), Option("Blue", "blue")),
                        max_values=2,
                    ),
                ),
            )
        )

    @component("yes")
    async def yes(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The button."""
        await ctx.reply(f"You pressed yes ({press.value})")

    @component("pick")
    async def pick(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The select."""
        await ctx.reply(f"You picked {', '.join(press.values)}")

    @command("feedback")
    async def feedback(self, ctx: CommandContext[Any]) -> None:
        """Open the feedback form."""
        await ctx.open_form(
            Form("feedback", "Feedback", inputs=(TextInput("text", "Your feedback", long=True),))
        )

    @component("feedback")
    async def feedback_sent(self, ctx: CommandContext[Any], press: Pressed) -> None:
        """The form was submitted."""
        await ctx.reply(f"Thanks for: {press.fields['text']}")

    @command("echo", ephemeral=False)
    async def echo(self, ctx: CommandContext[Any], text: Annotated[str, "What to post"]) -> None:
        """Post text in the channel, as a relay would."""
        await ctx.port.send(ctx.channel, Message(text=text))
        await ctx.reply("Posted.", ephemeral=True)

    @command("announce", ephemeral=False)
    async def announce(
        self,
        ctx: CommandContext[Any],
        style: Annotated[str, "embed or text"],
        role: Annotated[RoleRef, "The role the post may ping"],
        text: Annotated[str, "An item's title, summary and author"],
    ) -> None:
        """Post text as the announcement relay would: a feed item shown through a route."""
        item = Item(guid="x", title=text, link="https://e.org/x", summary=f"<p>{text}</p>")
        look = Look(style, "{title} {summary} {author}", role)
        await ctx.port.send(ctx.channel, post(replace(item, author=text), text, UTC, look))
        await ctx.reply("Posted.", ephemeral=True)

    @command("whois")
    async def whois(self, ctx: CommandContext[Any], member: Annotated[Member, "Who"]) -> None:
        """Describe a member."""
        await ctx.reply(f"{member.display_name} is {member.level.label}")

    @on(MemberJoined)
    async def welcome(self, ctx: Context[Any], event: MemberJoined) -> None:
        """Welcome newcomers by DM."""
        await ctx.port.dm(event.member.ref, Message(text=f"Welcome, {event.member.display_name}!"))
