"""Timeouts, kicks and bans: checked, written, the member told first, then done or handed over."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Capability, Member
from cogs.moderation import _texts
from cogs.moderation._authority import Act
from cogs.moderation._cases import Ctx, open_case, post_modlog
from cogs.moderation._models import ModerationCase

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
    able = _NEEDS[act] in ctx.port.capabilities
    case = await open_case(ctx, act, member, reason, 0, duration=duration, actioned=able)
    if not able:
        # Acting in the open: the case waits for the admin, and everyone sees what is missing.
        todo = f"{_BY_HAND[act]} (<@{member.ref.id}>), then note it on case #{case.number}."
        await post_modlog(ctx, case, f"waiting for a workspace admin. {todo}")
        return case, f"Case #{case.number} is open. {todo}"
    # Before a kick or ban: afterwards Steward shares no server with them and cannot reach them.
    sent = await ctx.port.dm(member.ref, _texts.notice(case, ctx.settings.appeal_hint, duration))
    case.dm_sent = sent is not None
    await ctx.uow.commit()
    audit = f"Case #{case.number} by {ctx.actor.display_name}: {case.reason}"
    if act is Act.TIMEOUT:
        assert duration is not None
        await ctx.port.timeout(member.ref, case.created_at + duration, reason=audit)
    elif act is Act.KICK:
        await ctx.port.kick(member.ref, reason=audit)
    else:
        await ctx.port.ban(member.ref, reason=audit)
    await post_modlog(ctx, case)
    done = _texts.DONE[act.value]
    return case, f"Case #{case.number}: {done} <@{member.ref.id}>.{_texts.delivered(case)}"
