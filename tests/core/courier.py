"""A test feature that delivers through the outbox: ``relay a b c`` posts a, b and c back."""

from __future__ import annotations

from typing import Annotated, Any

from bot.core import CommandContext, Context, Feature, Message, MessagePosted, command, on
from sandbox.scenario import Community


class Courier(Feature, name="courier"):
    """Relays words through the outbox and tells what became of each."""

    always_on = True

    @on(MessagePosted)
    async def relay(self, ctx: Context[Any], event: MessagePosted) -> None:
        """``relay a b c`` in a channel: a, b and c are delivered there, in that order;
        ``relay-dm a``: a is delivered to the author by DM; ``amend a b``: the post of a is
        edited to say b; ``trouble``: the staff hear of it."""
        verb, _, rest = event.text.partition(" ")
        if verb == "amend" and not event.author.is_bot:
            word, _, new = rest.partition(" ")
            channel = event.message.channel
            message = Message(text=f"amended {new}")
            await ctx.edit(channel, message, of=f"relay:{word}", key=f"amend:{word}:{new}")
        if verb == "trouble" and not event.author.is_bot:
            await ctx.alert_staff(f"The courier lost a parcel ({rest}).", key="lost")
        if event.author.is_bot or verb not in ("relay", "relay-dm"):
            return
        for word in rest.split():
            target = event.author.ref if verb == "relay-dm" else event.message.channel
            await ctx.deliver(target, Message(text=f"relayed {word}"), key=f"relay:{word}")

    @command("outcome")
    async def outcome(
        self, ctx: CommandContext[Any], word: Annotated[str, "A relayed word"]
    ) -> None:
        """What became of a relayed word."""
        found = await ctx.delivery(word if word.startswith("amend:") else f"relay:{word}")
        if found is None:
            await ctx.reply(f"{word}: never relayed")
        elif found.status == "failed":
            await ctx.reply(f"{word}: failed after {found.attempts} tries ({found.reason})")
        else:
            await ctx.reply(f"{word}: {found.status} after {found.attempts} tries")


def relayed(community: Community) -> list[str]:
    """The relayed words in #general, in the order people see them."""
    return [
        m.text.removeprefix("relayed ")
        for m in community.messages_in("general")
        if m.text.startswith("relayed ")
    ]
