"""Evidence kept no longer than the community allows, and the figures moderation publishes.

Message text is the only thing of members' words Steward stores, and only as evidence on a case
(a snapshot of a reported or escalated message, or of one automod acted on). A daily job removes
it once it is older than ``evidence_retention_days``; the case and its history stay, the
evidence line reading "evidence removed after N days". Every hour moderation publishes its
figures for the last seven days (``ModerationWeek``) for the weekly digest.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from bot.core import Context
from cogs.moderation._company import ESCALATION, waiting
from cogs.moderation._models import ModerationCase, ModerationCaseEvent
from cogs.moderation.events import ModerationWeek
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
ACTIONS = ("warn", "timeout", "kick", "ban", "automod")
REPORTED = "this message: "
"""How a report made from a message's menu starts its reason (the message's words follow)."""


def removed(days: int) -> str:
    """What stands where the evidence was."""
    return f"evidence removed after {days} days"


async def purge(ctx: Ctx) -> int:
    """Remove evidence older than the retention; how many cases lost theirs."""
    days = ctx.settings.evidence_retention_days
    cutoff = ctx.clock.now() - timedelta(days=days)
    marker = removed(days)
    session = ctx.uow.session
    rows = await session.execute(
        select(ModerationCaseEvent, ModerationCase)
        .join(ModerationCase, ModerationCase.id == ModerationCaseEvent.case_id)
        .where(
            ModerationCase.community_id == ctx.community.key,
            or_(ModerationCaseEvent.key == "evidence", ModerationCaseEvent.key.like("msg:%")),
            ModerationCaseEvent.at < cutoff,
            ModerationCaseEvent.note.is_not(None),
            ModerationCaseEvent.note.not_like("evidence removed after %"),
        )
    )
    count = 0
    for event, case in rows.all():
        event.note = marker
        if case.reason.startswith(REPORTED):
            case.reason = f"a message ({marker})"
        count += 1
    if count:
        ctx.log.info("removed the evidence of %d cases older than %d days", count, days)
    return count


async def publish_week(ctx: Ctx) -> ModerationWeek:
    """Publish the last seven days' figures (counts only) for the weekly digest."""
    now = ctx.clock.now()
    since = now - timedelta(days=7)
    session = ctx.uow.session
    mine = (
        ModerationCase.community_id == ctx.community.key,
        ModerationCase.voided.is_(False),
    )
    opened = dict(
        (
            await session.execute(
                select(ModerationCase.kind, func.count())
                .where(*mine, ModerationCase.created_at > since)
                .group_by(ModerationCase.kind)
            )
        ).all()
    )
    closed = await session.scalar(
        select(func.count(func.distinct(ModerationCaseEvent.case_id)))
        .join(ModerationCase, ModerationCase.id == ModerationCaseEvent.case_id)
        .where(*mine, ModerationCaseEvent.move == "close", ModerationCaseEvent.at > since)
    )
    count, oldest = await waiting(session, ctx.community.key)
    event = ModerationWeek(
        community=ctx.community,
        at=now,
        reports=int(opened.get("report", 0)),
        actions=sum(int(opened.get(kind, 0)) for kind in ACTIONS),
        escalations=int(opened.get(ESCALATION, 0)),
        closed=int(closed or 0),
        escalations_open=count,
        oldest_escalation=None if oldest is None else now - oldest,
    )
    ctx.publish(event)
    return event
