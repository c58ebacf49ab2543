"""Lifting bans: by a moderator (``unban <case>``) or when a timed ban's durable timer comes due.

A timed ban writes its timer in the same transaction as the case, so a restart never forgets
it (timers are rows, re-armed on start). Lifting opens its own ``unban`` case, then asks the
platform; a ban already lifted by hand counts as lifted. On Slack a workspace admin reactivates
the account, asked with a Mark done button like every other step Slack leaves to them.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import Capability, Context, Member, NotFound, UserError, UserRef
from bot.core.parsing import format_duration
from cogs.moderation import _notify
from cogs.moderation._actions import mark_done, sanction
from cogs.moderation._authority import Act
from cogs.moderation._cases import Ctx as Cmd
from cogs.moderation._lifecycle import Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
LIFT = "lift_ban"
"""The timer that lifts a timed ban."""


def timer_key(ban: ModerationCase) -> str:
    """The durable timer of a timed ban."""
    return f"unban:{ban.number}"


async def schedule(ctx: Ctx, ban: ModerationCase, duration: timedelta) -> None:
    """Lift ``ban`` after ``duration`` (a durable timer, written with the case)."""
    at = ban.created_at + duration
    await ctx.timers.schedule(LIFT, at=at, key=timer_key(ban), payload={"case": ban.number})


async def ban(ctx: Cmd, member: Member, reason: str, duration: timedelta | None) -> str:
    """Ban a member (for ``duration``, or for good); returns what to tell the moderator."""
    case, said = await sanction(ctx, Act.BAN, member, reason, duration)
    if duration is None:
        return said
    # Slack: the timer asks the admin to reactivate the account when the time is up.
    length = format_duration(duration)
    if Capability.BAN not in ctx.port.capabilities:
        await schedule(ctx, case, duration)
        return f"{said} In {length} the staff will be asked to reactivate it."
    if case.status == Status.ACTIONED:
        await schedule(ctx, case, duration)
        return f"{said} The ban lifts itself in {length}."
    return said


async def expire(ctx: Ctx, number: int) -> None:
    """A timed ban's time is up: lift it, unless it was voided or lifted already."""
    ban = await Repo(ctx.uow.session, ctx.community).case(number)
    if ban is None or ban.voided:
        return
    try:
        await lift(ctx, ban, by=f"timer:{number}", reason=f"the ban of case #{number} ended")
    except UserError:
        return  # lifted by a moderator before its time


async def _unban(ctx: Ctx, target: UserRef, reason: str) -> None:
    try:
        await ctx.port.unban(target, reason=reason)
    except NotFound:
        return  # lifted already (by hand, in the platform's own settings): nothing to undo


async def lift(ctx: Ctx, ban: ModerationCase, *, by: str, reason: str) -> str:
    """Open an ``unban`` case for ``ban`` and lift it; returns what to tell whoever asked."""
    if ban.kind != "ban":
        raise UserError(f"Case #{ban.number} is a {ban.kind}, not a ban.")
    repo = Repo(ctx.uow.session, ctx.community)
    if await repo.lifted(ban.target_id, since=ban.created_at):
        raise UserError(f"The ban of case #{ban.number} was already lifted.")
    case = await repo.open(
        kind="unban",
        target=ban.target_id,
        actor=by,
        reason=reason,
        points=0,
        status=Status.OPEN,
        at=ctx.clock.now(),
    )
    await ctx.timers.cancel(timer_key(ban))
    await ctx.commit()  # the case exists before anything is done
    who = f"<@{ban.target_id}>"
    if Capability.BAN not in ctx.port.capabilities:
        todo = f"Slack apps cannot lift bans: a workspace admin can reactivate the account ({who})"
        await _notify.by_hand(ctx, case, f"{todo}, then press Mark done.")
        await _notify.modlog(ctx, case, key="open", note="Waiting for a workspace admin.")
        await ctx.commit()
        return f"Case #{case.number} is open. {todo}; the staff have a Mark done button."
    target = UserRef(ctx.community, ban.target_id)
    channel, _role = await _notify.staff_place(ctx)
    done = await ctx.attempt(
        f"lift the ban on {who} (case #{case.number})",
        _unban(ctx, target, f"Case #{case.number}: {reason}"),
        key=f"act:{case.number}",
        meanwhile=f"Case #{case.number} stays open until someone does it.",
        channel=channel,
    )
    if not done:
        await _notify.modlog(ctx, case, key="open", note="The platform refused; still open.")
        await ctx.commit()
        return f"Case #{case.number} is open, but the platform refused; the staff were told."
    await mark_done(ctx, case, by=by, key=f"act:{case.number}")
    await _notify.modlog(ctx, case, key="open")
    await ctx.commit()
    return f"Case #{case.number}: lifted the ban of case #{ban.number} on {who}."
