"""Cases for what moderators do in Discord's own client (a ban, unban, kick or timeout).

The adapter tells who acted and why when Steward may read the audit log, and never passes on
Steward's own entries. Without the audit log the moderator is unknown, and Steward's own action
is recognised by the case it opened before acting (same kind, same member, minutes ago), so
its own ban never becomes a second case. A replayed audit entry is recognised by its id.
Slack sends no such events: there the staff open cases with the commands.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import Context, ModeratedInClient
from cogs.moderation import _notify
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase, ModerationCaseEvent
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Listen = Context[ModerationSettings]
UNKNOWN = "client:unknown"
"""The actor of a case opened from an event that does not say who acted."""
OWN_WINDOW = timedelta(minutes=10)
"""How recent a case of Steward's own must be to stand for an unattributed event."""
_SAME = {
    "ban": ("ban",),
    "unban": ("unban",),
    "kick": ("kick",),
    "timeout": ("timeout", "automod"),
}
"""The kinds of Steward's own cases each action may stand for (automod rules time out)."""


async def record(ctx: Listen, event: ModeratedInClient) -> ModerationCase | None:
    """Open an actioned case for an action taken in the client; None when it is already one."""
    if event.action not in _SAME:
        return None  # a timeout lifted early: the timeout's own case tells the story
    repo = Repo(ctx.uow.session, ctx.community)
    key = f"client:{event.source}" if event.source else None
    if key is not None and await _seen(ctx, key):
        return None
    if event.by is None and await _own(ctx, event):
        return None
    actor = event.by.id if event.by is not None else UNKNOWN
    reason = (event.reason or "").strip() or "(no reason given in Discord)"
    now = ctx.clock.now()
    case = await repo.open(
        kind=event.action,
        target=event.user.id,
        actor=actor,
        reason=reason,
        points=0,
        status=Status.ACTIONED,
        at=now,
    )
    note = "in Discord's own client"
    if event.until is not None:
        note += f", until {event.until:%Y-%m-%d %H:%M} UTC"
    await repo.record(
        case,
        move=Move.ACTION,
        before=Status.OPEN,
        after=Status.ACTIONED,
        actor=actor,
        at=now,
        key=key or f"client:{event.action}:{event.user.id}:{now.isoformat()}",
        note=note,
    )
    await ctx.commit()
    await _notify.modlog(ctx, case, key="open", note=f"(done {note})")
    return case


async def _seen(ctx: Listen, key: str) -> bool:
    """Whether this audit entry already opened a case here."""
    found = await ctx.uow.session.scalar(
        select(ModerationCaseEvent.id)
        .join(ModerationCase, ModerationCase.id == ModerationCaseEvent.case_id)
        .where(ModerationCase.community_id == ctx.community.key, ModerationCaseEvent.key == key)
        .limit(1)
    )
    return found is not None


async def _own(ctx: Listen, event: ModeratedInClient) -> bool:
    """Whether a recent case already stands for this unattributed action (Steward's own, a
    rule's, or the same event seen twice)."""
    found = await ctx.uow.session.scalar(
        select(ModerationCase.id)
        .where(
            ModerationCase.community_id == ctx.community.key,
            ModerationCase.kind.in_(_SAME[event.action]),
            ModerationCase.target_id == event.user.id,
            ModerationCase.created_at >= ctx.clock.now() - OWN_WINDOW,
        )
        .limit(1)
    )
    return found is not None
