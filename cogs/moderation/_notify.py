"""Everything moderation sends goes through the outbox, once per key: mod-log posts, the
member's notice, and the staff's requests for what Steward could not do itself."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Button, ChannelRef, Context, Message, RoleRef, UserRef
from bot.core.staff import staff_message
from cogs.moderation import _texts
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]


async def modlog(
    ctx: Ctx,
    case: ModerationCase,
    change: str | None = None,
    *,
    key: str,
    note: str | None = None,
) -> None:
    """Post the case in the mod-log, or edit its post to show where it stands now (with a
    ``note``, and the ``change`` just made), once per ``key``."""
    channel = ctx.settings.modlog_channel
    if channel is None:
        return
    history = await Repo(ctx.uow.session, ctx.community).history(case)
    message = _texts.modlog(case, history, change, note)
    post = f"log:{case.number}:open"
    if not await ctx.deliver(channel, message, key=post):
        await ctx.edit(channel, message, of=post, key=f"log:{case.number}:{len(history)}:{key}")


async def modlog_line(ctx: Ctx, text: str, *, key: str) -> None:
    """Queue a plain line in the mod-log (dry runs, automod outcomes), once per ``key``."""
    channel = ctx.settings.modlog_channel
    if channel is not None:
        await ctx.deliver(channel, _texts.plain(text), key=f"log:{key}")


async def tell_member(
    ctx: Ctx, case: ModerationCase, target: UserRef, duration: timedelta | None = None
) -> bool:
    """Send the member their notice (what, why, how to appeal), commit, and record on the case
    whether it arrived. A notice still waiting for a retry counts as not arrived (yet)."""
    key = f"notice:{case.number}"
    await ctx.deliver(target, _texts.notice(case, ctx.settings.appeal_hint, duration), key=key)
    await ctx.commit()
    outcome = await ctx.delivery(key)
    case.dm_sent = outcome is not None and outcome.status == "sent"
    await ctx.commit()
    return case.dm_sent


async def staff_place(ctx: Ctx) -> tuple[ChannelRef | None, RoleRef | None]:
    """Where the staff are told: the community's staff channel, else the mod-log."""
    shared = await ctx.community_settings()
    return shared.staff_channel or ctx.settings.modlog_channel, shared.staff_role


async def alert(ctx: Ctx, text: str, *, key: str) -> bool:
    """Tell the staff once per ``key`` (the staff channel, else the mod-log)."""
    channel, role = await staff_place(ctx)
    return await ctx.alert_staff(text, key=key, channel=channel, role=role)


async def by_hand(ctx: Ctx, case: ModerationCase, todo: str) -> None:
    """Ask the staff to do by hand what the platform does not let Steward do, with a button to
    mark the case done once it is."""
    channel, role = await staff_place(ctx)
    if channel is None:
        ctx.log.warning("case #%s needs a hand, but no staff channel is set", case.number)
        return
    shown = staff_message(f"Case #{case.number}: {todo}", role)
    button = Button("done", "Mark done", value=str(case.number), style="primary")
    message = Message(text=shown.text, buttons=(button,), ping_roles=shown.ping_roles)
    await ctx.deliver(channel, message, key=f"byhand:{case.number}")
