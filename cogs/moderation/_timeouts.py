"""A timeout's end, written on its case by a durable timer, so the case's history is true."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Context
from cogs.moderation import _notify
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
ENDED = "timeout_ended"
"""The timer that records a timeout's end."""


def timer_key(case: ModerationCase) -> str:
    """The durable timer of a timeout case."""
    return f"timeout:{case.number}"


async def schedule(ctx: Ctx, case: ModerationCase, duration: timedelta) -> None:
    """Record the end of ``case``'s timeout when it comes (a durable timer, with the case)."""
    at = case.created_at + duration
    await ctx.timers.schedule(ENDED, at=at, key=timer_key(case), payload={"case": case.number})


async def ended(ctx: Ctx, number: int) -> None:
    """The timeout is over: say so on the case and in the mod-log (not for a voided case:
    overturning lifted it early, and says so)."""
    repo = Repo(ctx.uow.session, ctx.community)
    case = await repo.case(number)
    if case is None or case.voided:
        return
    history = await repo.history(case)
    if any(e.key == "timeout:ended" for e in history):
        return
    await repo.record(
        case,
        move="ended",
        actor=f"timer:{number}",
        at=ctx.clock.now(),
        key="timeout:ended",
        note="timeout ended",
    )
    await _notify.modlog(ctx, case, "the timeout ended", key="ended")
