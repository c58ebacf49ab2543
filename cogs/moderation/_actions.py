"""Timeouts, kicks and bans: checked, written, the member told first, then done or handed over."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Capability, Member, UserError
from cogs.moderation import _texts
from cogs.moderation._authority import Act, refusal
from cogs.moderation._cases import STEWARD, Ctx, audit_key, post_modlog, standing
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo

_NEEDS = {Act.TIMEOUT: Capability.TIMEOUT, Act.KICK: Capability.KICK, Act.BAN: Capability.BAN}
_BY_HAND = {
    Act.TIMEOUT: "Slack has no timeouts: a workspace admin can deactivate the account for a while",
    Act.KICK: "Slack apps cannot remove people: a workspace admin must deactivate the account",
    Act.BAN: "Slack apps cannot ban: a workspace admin must deactivate the account",
}


async def sanction(
    ctx: Ctx, act: Act, member: Member, reason: str, duration: timedelta | None = None
) -> tuple[ModerationCase, str]:
    """Open the case, tell the member, then act; returns the case and what to tell the moderator."""
    why = refusal(act, standing(ctx.actor), standing(member), STEWARD, duration=duration)
    if why is not None:
        raise UserError(why)
    reason = reason.strip()
    if not reason:
        raise UserError("Please give a reason; the member and the other moderators will read it.")
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    able = _NEEDS[act] in ctx.port.capabilities
    status = Status.ACTIONED if able else Status.OPEN
    case = await repo.open(
        kind=act.value,
        target=member.ref.id,
        actor=ctx.actor.ref.id,
        reason=reason,
        points=0,
        status=status,
        at=now,
    )
    if not able:
        # Acting in the open: the case waits for the admin, and everyone sees what is missing.
        await ctx.uow.commit()
        todo = f"{_BY_HAND[act]} (<@{member.ref.id}>), then note it on case #{case.number}."
        await post_modlog(ctx, case, f"waiting for a workspace admin. {todo}")
        return case, f"Case #{case.number} is open. {todo}"
    await repo.record(
        case,
        move=Move.ACTION,
        before=Status.OPEN,
        after=Status.ACTIONED,
        actor=ctx.actor.ref.id,
        at=now,
        key=audit_key(),
    )
    await ctx.uow.commit()  # the case exists before the member hears of it
    # Before a kick or ban: afterwards Steward shares no server with them and cannot reach them.
    sent = await ctx.port.dm(member.ref, _texts.notice(case, ctx.settings.appeal_hint, duration))
    case.dm_sent = sent is not None
    await ctx.uow.commit()
    audit = f"Case #{case.number} by {ctx.actor.display_name}: {reason}"
    if act is Act.TIMEOUT:
        assert duration is not None
        await ctx.port.timeout(member.ref, now + duration, reason=audit)
    elif act is Act.KICK:
        await ctx.port.kick(member.ref, reason=audit)
    else:
        await ctx.port.ban(member.ref, reason=audit)
    await post_modlog(ctx, case)
    done = _texts.DONE[act.value]
    return case, f"Case #{case.number}: {done} <@{member.ref.id}>.{_texts.delivered(case)}"
