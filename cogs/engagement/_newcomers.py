"""Newcomers as engagement sees them: an intro pointed out where members can answer it."""

from __future__ import annotations

from bot.core import Context, Message, mention
from cogs.engagement.settings import EngagementSettings
from cogs.onboarding.events import StepCompleted


async def point_at_intro(ctx: Context[EngagementSettings], event: StepCompleted) -> None:
    """A newcomer introduced themselves: say so in the digest channel (``greet_intros``), once.

    A first answer is what engagement counts as a newcomer being welcomed; this asks for it.
    The newcomer is named, not pinged.
    """
    where = ctx.settings.digest_channel
    if event.step != "intro" or not event.newcomer or not ctx.settings.greet_intros:
        return
    if where is None:
        return
    text = f"{mention(event.user)} just introduced themselves. Say hello!"
    await ctx.deliver(where, Message(text=text), key=f"intro:{event.user.id}")
