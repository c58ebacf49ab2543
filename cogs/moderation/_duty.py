"""On-call: moderators on duty are pinged by new reports; a report nobody acknowledges within
``ack_after_minutes`` is raised to all moderators, then to the admins (durable timers)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from bot.core import Context, Message, RoleRef, UserRef, mention
from cogs.moderation import _notify
from cogs.moderation._lifecycle import Status
from cogs.moderation._models import ModerationCase, ModerationDuty
from cogs.moderation._repo import Repo
from cogs.moderation._rota import scheduled_now
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
RAISE = "report_unacknowledged"
"""The timer that raises a report nobody acknowledged."""


async def on_duty(ctx: Ctx) -> list[UserRef]:
    """The moderators on duty now: by hand (longest first), then by their weekly schedule."""
    rows = await ctx.uow.session.scalars(
        select(ModerationDuty)
        .where(ModerationDuty.community_id == ctx.community.key)
        .order_by(ModerationDuty.since, ModerationDuty.id)
    )
    by_hand = [UserRef(ctx.community, r.user_id) for r in rows]
    return by_hand + [u for u in await scheduled_now(ctx) if u not in by_hand]


async def set_duty(ctx: Ctx, user: UserRef, on: bool) -> str:
    """Go on or off duty; returns what to tell the moderator (with who else is on)."""
    await ctx.uow.session.execute(
        delete(ModerationDuty).where(
            ModerationDuty.community_id == ctx.community.key, ModerationDuty.user_id == user.id
        )
    )
    if on:
        ctx.uow.session.add(
            ModerationDuty(community_id=ctx.community.key, user_id=user.id, since=ctx.clock.now())
        )
    await ctx.uow.session.flush()
    others = [mention(u) for u in await on_duty(ctx) if u.id != user.id]
    also = f" Also on duty: {', '.join(others)}." if others else " Nobody else is on duty."
    if on:
        return "You're on duty: new reports ping you first." + also
    return "You're off duty." + also


def _key(case: ModerationCase) -> str:
    return f"raise:{case.number}"


async def arm(ctx: Ctx, case: ModerationCase) -> None:
    """Raise ``case`` if nobody acknowledges it in time (written with the case)."""
    at = case.created_at + timedelta(minutes=ctx.settings.ack_after_minutes)
    await ctx.timers.schedule(
        RAISE, at=at, key=_key(case), payload={"case": case.number, "stage": 1}
    )


async def disarm(ctx: Ctx, case: ModerationCase) -> None:
    """A moderator took the report: nobody else needs to be raised."""
    await ctx.timers.cancel(_key(case))


async def raise_report(ctx: Ctx, number: int, stage: int) -> None:
    """The report still waits: tell all moderators (stage 1), then the admins (stage 2)."""
    case = await Repo(ctx.uow.session, ctx.community).case(number)
    if case is None or case.voided or case.status != Status.OPEN:
        return
    shared = await ctx.community_settings()
    minutes = ctx.settings.ack_after_minutes * stage
    role: RoleRef | None
    if stage == 1:
        role, who = shared.moderator_role or shared.staff_role, "moderators"
        at = ctx.clock.now() + timedelta(minutes=ctx.settings.ack_after_minutes)
        await ctx.timers.schedule(
            RAISE, at=at, key=_key(case), payload={"case": number, "stage": 2}
        )
    else:
        role, who = ctx.settings.admin_role, "admins"
    channel, _role = await _notify.staff_place(ctx)
    if channel is None:
        ctx.log.warning("report case #%s waits, but no staff channel or mod-log is set", number)
        return
    text = (
        f"Case #{number}, a member's report, has waited {minutes} minutes and nobody has "
        f"acknowledged it. Could one of the {who} take it?"
    )
    message = Message(
        text=(f"{mention(role)} " if role is not None else "") + text,
        ping_roles=frozenset({role}) if role is not None else frozenset(),
    )
    await ctx.deliver(channel, message, key=f"raise:{number}:{stage}")
