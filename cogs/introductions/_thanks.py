"""Thank-yous between members who met: a private DM, and a post in a channel if both agree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import Button, CommandContext, Message, UserError, UserRef, mention
from bot.core.parsing import digits_value
from bot.core.templates import neutralize_pings
from cogs.introductions._models import IntroSeat, IntroThanks
from cogs.introductions._repo import Repo
from cogs.introductions.settings import IntroductionsSettings

Ctx = CommandContext[IntroductionsSettings]
MAX_NOTE = 500
ONE_THANKS_PER = timedelta(days=7)
"""A member thanks the same person at most once in this long (a DM is not a megaphone)."""


async def _met(ctx: Ctx, a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` were ever in the same group."""
    key = ctx.community.key
    mine = select(IntroSeat.group_id).where(IntroSeat.community_id == key, IntroSeat.user_id == a)
    found = await ctx.uow.session.scalar(
        select(IntroSeat.group_id)
        .where(IntroSeat.community_id == key, IntroSeat.user_id == b, IntroSeat.group_id.in_(mine))
        .limit(1)
    )
    return found is not None


async def send(ctx: Ctx, to: UserRef, note: str, share: bool) -> str:
    """Store a thank-you and DM it (through the outbox); the answer for the sender."""
    sender = ctx.actor.ref
    if to.id == sender.id or not await _met(ctx, sender.id, to.id):
        raise UserError("You can thank someone you were introduced to in a round.")
    if frozenset((sender.id, to.id)) in await Repo(ctx.uow.session, ctx.community).blocked():
        # Someone's do-not-pair list holds the pair: say no, never whose list or why.
        raise UserError("I can't pass a thank-you to them.")
    earlier = await ctx.uow.session.scalar(
        select(IntroThanks.id)
        .where(
            IntroThanks.community_id == ctx.community.key,
            IntroThanks.from_id == sender.id,
            IntroThanks.to_id == to.id,
            IntroThanks.created_at > ctx.clock.now() - ONE_THANKS_PER,
        )
        .limit(1)
    )
    if earlier is not None:
        raise UserError("You thanked them this week already: one thank-you a week is plenty.")
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise UserError(f"Keep a thank-you to {MAX_NOTE} characters.")
    channel = ctx.settings.thanks_channel
    row = IntroThanks(
        community_id=ctx.community.key,
        from_id=sender.id,
        to_id=to.id,
        note=note,
        share=share and channel is not None,
        created_at=ctx.clock.now(),
    )
    ctx.uow.session.add(row)
    await ctx.uow.session.flush()
    said = f": “{neutralize_pings(note)}”" if note else "."
    buttons: tuple[Button, ...] = ()
    text = f"🙏 {mention(sender)} says thank you for meeting{said}"
    if row.share and channel is not None:
        text += (
            f"\nThey'd like to share it in {mention(channel)}; it appears there only if you agree."
        )
        buttons = (Button("share_thanks", "Share it", value=str(row.id), style="primary"),)
    await ctx.deliver(to, Message(text=text, buttons=buttons), key=f"thanks:{row.id}")
    shared = " If they agree, it appears in the channel too." if row.share else ""
    return f"Sent your thank-you to {mention(to)}.{shared}"


async def share(ctx: Ctx, thanks_id: str) -> str:
    """The thanked member agrees: the thank-you appears in the channel (no one is pinged)."""
    number = digits_value(thanks_id)
    row = await ctx.uow.session.get(IntroThanks, number) if number is not None else None
    if row is None or row.community_id != ctx.community.key or row.to_id != ctx.actor.ref.id:
        raise UserError("Only the person thanked can share that thank-you.")
    channel = ctx.settings.thanks_channel
    if not row.share or channel is None:
        raise UserError("That thank-you can't be shared: there is no thanks channel now.")
    if row.shared_at is not None:
        return "It's already in the channel."
    row.shared_at = ctx.clock.now()
    sender, thanked = UserRef(ctx.community, row.from_id), UserRef(ctx.community, row.to_id)
    said = f": “{neutralize_pings(row.note)}”" if row.note else "."
    text = (
        f"🙏 {mention(sender)} thanked {mention(thanked)} for meeting through introductions{said}"
    )
    await ctx.deliver(channel, Message(text=text), key=f"thanks_shared:{row.id}")
    return f"Shared in {mention(channel)}. Thank you both!"
