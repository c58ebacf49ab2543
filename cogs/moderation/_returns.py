"""Members with cases who leave and come back: the case history says so, and the staff are told.

Leaving (a kick, a ban, or going of their own accord) is written on the member's open and
recent cases. Coming back is a join on Discord; on Slack a deactivated account that is active
again (Slack has no "rejoined" event, so the "left" written before is what tells it apart from
any other change to a profile). The staff then get one alert with the case numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from bot.core import Context, MemberLeft, UserRef, occurrence
from cogs.moderation import _notify
from cogs.moderation._lifecycle import Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
LEFT, RETURNED = "left", "returned"
_OPEN = (Status.OPEN, Status.ACKNOWLEDGED, Status.APPEALED)
_SHOWN = 10


async def cases_of(ctx: Ctx, user: str) -> list[ModerationCase]:
    """The member's cases that still matter: open ones, and those of the last
    ``points_decay_days`` that were not voided (lifting a ban is not counted)."""
    since = ctx.clock.now() - timedelta(days=ctx.settings.points_decay_days)
    rows = await ctx.uow.session.scalars(
        select(ModerationCase)
        .where(
            ModerationCase.community_id == ctx.community.key,
            ModerationCase.target_id == user,
            ModerationCase.kind != "unban",
            ModerationCase.voided.is_(False),
            or_(ModerationCase.status.in_(_OPEN), ModerationCase.created_at > since),
        )
        .order_by(ModerationCase.number)
    )
    return list(rows)


async def _mark(ctx: Ctx, cases: list[ModerationCase], move: str, when: str) -> None:
    """Write the coming or going on each case, once per event (``when`` names the event)."""
    repo = Repo(ctx.uow.session, ctx.community)
    key = f"{move}:{when}"
    note = "left the community" if move == LEFT else "came back to the community"
    for case in cases:
        if any(e.key == key for e in await repo.history(case)):
            continue  # the same event handled again
        await repo.record(
            case,
            move=move,
            actor=case.target_id,
            at=ctx.clock.now(),
            key=key,
            note=note,
        )


async def left(ctx: Ctx, event: MemberLeft) -> None:
    """The member left (or was removed): written on their open and recent cases (once, also
    when the platform delivers the leaving again)."""
    await _mark(ctx, await cases_of(ctx, event.user.id), LEFT, occurrence(event))


async def _away(ctx: Ctx, cases: list[ModerationCase]) -> bool:
    """Whether the last coming or going written on the member's cases is a leaving."""
    repo = Repo(ctx.uow.session, ctx.community)
    last: tuple[datetime, str] | None = None
    for case in cases:
        for event in await repo.history(case):
            if event.move in (LEFT, RETURNED) and (last is None or event.at >= last[0]):
                last = (event.at, event.move)
    return last is not None and last[1] == LEFT


async def returned(ctx: Ctx, user: UserRef, at: datetime, *, joined: bool) -> bool:
    """The member is back (``joined``: a join; else a profile change, which counts only after
    a leaving): flag them to the staff with their cases. True when the staff were told."""
    cases = await cases_of(ctx, user.id)
    if not cases or (not joined and not await _away(ctx, cases)):
        return False
    await _mark(ctx, cases, RETURNED, at.isoformat())  # a join's time is Discord's own
    listed = ", ".join(f"#{c.number} {c.kind} ({c.status})" for c in cases[-_SHOWN:])
    more = f" and {len(cases) - _SHOWN} more" if len(cases) > _SHOWN else ""
    text = (
        f"<@{user.id}> is back in the community, with open or recent cases: {listed}{more}. "
        "`/moderation case <n>` shows one."
    )
    return await _notify.alert(ctx, text, key=f"returned:{user.id}:{at.isoformat()}")
