"""The escalation ladder applied: after a case with points, the step due is taken once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.core import Capability, Context, UserRef, plural
from cogs.moderation import _texts
from cogs.moderation._escalation import DEFAULT_LADDER, PastCase, Sanction, decide
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

_CAPABILITY = {
    Sanction.TIMEOUT: Capability.TIMEOUT,
    Sanction.KICK: Capability.KICK,
    Sanction.BAN: Capability.BAN,
}


async def climb(ctx: Context[ModerationSettings], target: UserRef) -> ModerationCase | None:
    """Take the ladder's step due for ``target`` now, if any (write, commit, tell, act)."""
    ladder = replace(DEFAULT_LADDER, points_decay=timedelta(days=ctx.settings.points_decay_days))
    rows = await ctx.uow.session.scalars(
        select(ModerationCase).where(
            ModerationCase.community_id == ctx.community.key,
            ModerationCase.target_id == target.id,
        )
    )
    history = [PastCase(r.created_at, r.points, r.voided, r.ladder_step) for r in rows]
    now = ctx.clock.now()
    decision = decide(history, now, ladder)
    step = decision.step
    if step is None:
        return None
    able = _CAPABILITY[step.sanction] in ctx.port.capabilities
    repo = Repo(ctx.uow.session, ctx.community)
    days = ctx.settings.points_decay_days
    why = (
        f"escalation: {plural(decision.points, 'point')} in {plural(days, 'day')} "
        f"reached {step.points}"
    )
    case = await repo.open(
        kind=step.sanction.value,
        target=target.id,
        actor=f"ladder:{step.points}",
        reason=why,
        points=0,
        status=Status.ACTIONED if able else Status.OPEN,
        at=now,
    )
    case.ladder_step = step.points
    if able:
        await repo.record(
            case,
            move=Move.ACTION,
            before=Status.OPEN,
            after=Status.ACTIONED,
            actor=f"ladder:{step.points}",
            at=now,
            key=f"ladder:{case.number}",
        )
    await ctx.commit()
    channel = ctx.settings.modlog_channel
    if not able:
        # Slack: the step becomes a request to the staff, in the open.
        if channel is not None:
            todo = f"a workspace admin must {step.sanction.value} <@{target.id}> by hand"
            await ctx.port.send(channel, _texts.plain(f"{_texts.summary(case)} Slack: {todo}."))
        return case
    sent = await ctx.port.dm(target, _texts.notice(case, ctx.settings.appeal_hint, step.duration))
    case.dm_sent = sent is not None
    await ctx.commit()
    audit = f"Case #{case.number}: {why}"
    if step.sanction is Sanction.TIMEOUT:
        await ctx.port.timeout(target, now + (step.duration or timedelta(days=1)), reason=audit)
    elif step.sanction is Sanction.KICK:
        await ctx.port.kick(target, reason=audit)
    else:
        await ctx.port.ban(target, reason=audit)
    if channel is not None:
        await ctx.port.send(channel, _texts.modlog(case))
    return case
