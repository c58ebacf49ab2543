"""The escalation ladder applied: after a case with points, the step due is taken once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.core import Context, UserRef, plural
from cogs.moderation._actions import carry_out
from cogs.moderation._authority import Act
from cogs.moderation._escalation import DEFAULT_LADDER, PastCase, decide, parse_steps
from cogs.moderation._lifecycle import Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings


async def climb(ctx: Context[ModerationSettings], target: UserRef) -> ModerationCase | None:
    """Take the ladder's step due for ``target`` now, if any (write, commit, tell, act)."""
    ladder = replace(
        DEFAULT_LADDER,
        points_decay=timedelta(days=ctx.settings.points_decay_days),
        steps=parse_steps(ctx.settings.ladder_steps),
    )
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
    repo = Repo(ctx.uow.session, ctx.community)
    days = ctx.settings.points_decay_days
    why = (
        f"escalation: {plural(decision.points, 'point')} in {plural(days, 'day')} "
        f"reached {step.points}"
    )
    by = f"ladder:{step.points}"
    case = await repo.open(
        kind=step.sanction.value,
        target=target.id,
        actor=by,
        reason=why,
        points=0,
        status=Status.OPEN,
        at=now,
    )
    case.ladder_step = step.points
    await ctx.commit()  # the case exists before anything is sent or done
    act = Act(step.sanction.value)
    await carry_out(ctx, case, act, target, step.duration, f"Case #{case.number}: {why}", by=by)
    return case
