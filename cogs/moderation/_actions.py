"""Timeouts, kicks and bans: the case written first, the member told, then done in the open.

Whoever asks (a moderator's command, the escalation ladder, an automod rule), a case is open
and committed before anything is sent or done. Steward then tells the member and acts: a kick
or ban after the notice (afterwards it cannot reach them), a timeout before it (so nobody reads
about a timeout that was refused). When the platform refuses (Discord: a missing permission or
the member ranks above Steward) or cannot (Slack has no timeouts, kicks or bans for apps), the
case stays open and the staff are told once what to do, with a button to mark it done.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta

from bot.core import Capability, ChannelRef, Context, Member, NotSupported, UserError, UserRef
from cogs.moderation import _notify, _texts, _timeouts
from cogs.moderation._authority import Act, beyond_steward
from cogs.moderation._cases import Ctx, find, open_case, own_standing, standing
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

_NEEDS = {Act.TIMEOUT: Capability.TIMEOUT, Act.KICK: Capability.KICK, Act.BAN: Capability.BAN}
_BY_HAND = {
    Act.TIMEOUT: "Slack has no timeouts: a workspace admin can deactivate the account for a while",
    Act.KICK: "Slack apps cannot remove people: a workspace admin must deactivate the account",
    Act.BAN: "Slack apps cannot ban: a workspace admin must deactivate the account",
}
_VERB = {Act.TIMEOUT: "time out", Act.KICK: "kick", Act.BAN: "ban"}


async def sanction(
    ctx: Ctx, act: Act, member: Member, reason: str, duration: timedelta | None = None
) -> tuple[ModerationCase, str]:
    """Check, open the case, tell the member and act; returns the case and what to tell the
    moderator."""
    case = await open_case(ctx, act, member, reason, 0, duration=duration, actioned=False)
    audit = f"Case #{case.number} by {ctx.actor.display_name}: {case.reason}"
    said = await carry_out(ctx, case, act, member.ref, duration, audit, by=ctx.actor.ref.id)
    return case, said


async def carry_out(
    ctx: Context[ModerationSettings],
    case: ModerationCase,
    act: Act,
    target: UserRef,
    duration: timedelta | None,
    audit: str,
    *,
    by: str,
) -> str:
    """Tell the member and act on an open, committed case; returns what to tell whoever asked."""
    who = f"<@{target.id}>"
    if _NEEDS[act] not in ctx.port.capabilities:
        # Acting in the open: the case waits for the admin, and the staff see what is missing.
        todo = f"{_BY_HAND[act]} ({who}), then press Mark done."
        await _notify.by_hand(ctx, case, todo)
        await _notify.modlog(ctx, case, key="open", note="Waiting for a workspace admin.")
        await ctx.commit()
        said = f"Case #{case.number} is open. {todo.replace('press', 'they press')}"
        if act is not Act.TIMEOUT and ctx.settings.slack_remove_from_channels:
            said += await _remove_everywhere(ctx, case, target)
        return said
    beyond = await _beyond_steward(ctx, act, target)
    if beyond is not None:
        # Refused before any platform call (a rule or the ladder asked; a moderator's command
        # was refused earlier): the case stays open and the staff learn why, once.
        await _notify.alert(ctx, f"Case #{case.number}: {beyond}", key=f"act:{case.number}")
        await _notify.modlog(ctx, case, key="open", note=f"Not done: {beyond}")
        await ctx.commit()
        return f"Case #{case.number} is open, but not done: {beyond} The staff were told."
    if act is not Act.TIMEOUT:
        await _notify.tell_member(ctx, case, target, duration)
    done = await ctx.attempt(
        f"{_VERB[act]} {who} (case #{case.number})",
        _platform_call(ctx, act, target, case.created_at, duration, audit),
        key=f"act:{case.number}",
        meanwhile=f"Case #{case.number} stays open until someone does it.",
        channel=(await _notify.staff_place(ctx))[0],
    )
    if done and act is Act.TIMEOUT:
        await _notify.tell_member(ctx, case, target, duration)
    if not done:
        await _notify.modlog(ctx, case, key="open", note="The platform refused; still open.")
        await ctx.commit()
        return (
            f"Case #{case.number} is open, but I couldn't {_VERB[act]} {who}: the platform "
            "refused. The staff were told what to fix."
        )
    await mark_done(ctx, case, by=by, key=f"act:{case.number}")
    if act is Act.TIMEOUT:
        await _timeouts.schedule(ctx, case, duration or timedelta(days=1))
    await _notify.modlog(ctx, case, key="open")
    await ctx.commit()
    return f"Case #{case.number}: {_texts.DONE[act.value]} {who}.{_texts.delivered(case)}"


async def _remove_everywhere(
    ctx: Context[ModerationSettings], case: ModerationCase, target: UserRef
) -> str:
    """Meanwhile, take the member out of every channel Steward is in (Slack)."""
    removed: list[bool] = []

    async def each() -> None:
        for channel in await ctx.port.channels(ctx.community):
            why = f"Case #{case.number}"
            removed.append(await ctx.port.remove_from_channel(target, channel, reason=why))

    channel, _role = await _notify.staff_place(ctx)
    done = await ctx.attempt(
        f"remove <@{target.id}> from the channels (case #{case.number})",
        each(),
        key=f"channels:{case.number}",
        meanwhile="The workspace admin's step is still needed.",
        channel=channel,
    )
    count = sum(removed)
    if not done:
        return f" I removed them from {count} channels before Slack refused; the staff were told."
    return f" Meanwhile I removed them from {count} channels."


async def _beyond_steward(
    ctx: Context[ModerationSettings], act: Act, target: UserRef
) -> str | None:
    """Whether the platform would refuse Steward this action on ``target`` (their place now)."""
    member = await ctx.port.fetch_member(target)
    if member is None:
        return None  # not in the community: only a ban is left, and Discord allows it
    return beyond_steward(act, standing(member), await own_standing(ctx))


def _platform_call(
    ctx: Context[ModerationSettings],
    act: Act,
    target: UserRef,
    at: datetime,
    duration: timedelta | None,
    audit: str,
) -> Awaitable[None]:
    if act is Act.TIMEOUT:
        return ctx.port.timeout(target, at + (duration or timedelta(days=1)), reason=audit)
    if act is Act.KICK:
        return ctx.port.kick(target, reason=audit)
    return ctx.port.ban(target, reason=audit)


async def mark_done(
    ctx: Context[ModerationSettings], case: ModerationCase, *, by: str, key: str
) -> bool:
    """Record that a case's action was carried out (once per ``key``); False when it was
    already."""
    if case.status != Status.OPEN:
        return False
    await Repo(ctx.uow.session, ctx.community).record(
        case,
        move=Move.ACTION,
        before=Status.OPEN,
        after=Status.ACTIONED,
        actor=by,
        at=ctx.clock.now(),
        key=key,
    )
    case.status = Status.ACTIONED
    return True


async def done_by_hand(ctx: Ctx, number: int) -> str:
    """A moderator marks done what a workspace admin did by hand; pressing twice changes
    nothing."""
    case = await find(ctx, number)
    if not await mark_done(ctx, case, by=ctx.actor.ref.id, key=f"done:{number}"):
        return f"Case #{number} is already {case.status}."
    change = f"done by hand, marked by <@{ctx.actor.ref.id}>"
    await _notify.modlog(ctx, case, change, key="done")
    return f"Case #{number} is marked done."


async def purge(ctx: Ctx, member: Member, count: int, channel: ChannelRef | None) -> str:
    """Delete a member's latest messages in a channel, as a case; returns what to tell the
    moderator. Slack lets an app delete only its own messages: there the staff are asked."""
    if not 1 <= count <= 100:
        raise UserError("Purge takes from 1 to 100 messages.")
    where = channel or ctx.channel
    case = await open_case(
        ctx, Act.PURGE, member, f"recent messages in <#{where.id}>", 0, actioned=False
    )
    who = f"<@{member.ref.id}>"
    try:
        deleted = await ctx.port.purge(where, member.ref, count, reason=f"Case #{case.number}")
    except NotSupported:
        todo = (
            "Slack apps may delete only their own messages: a workspace admin can delete "
            f"{who}'s in <#{where.id}>"
        )
        await _notify.by_hand(ctx, case, f"{todo}, then press Mark done.")
        await _notify.modlog(ctx, case, key="open", note="Waiting for a workspace admin.")
        return f"Case #{case.number} is open. {todo}; the staff have a Mark done button."
    except UserError as exc:
        text = f"Moderation couldn't delete {who}'s messages (case #{case.number}). {exc.message}"
        await _notify.alert(ctx, text, key=f"act:{case.number}")
        await _notify.modlog(ctx, case, key="open", note="The platform refused; still open.")
        return f"Case #{case.number} is open, but the platform refused; the staff were told."
    case.reason = f"deleted {deleted} recent messages in <#{where.id}>"
    await mark_done(ctx, case, by=ctx.actor.ref.id, key=f"act:{case.number}")
    await _notify.modlog(ctx, case, key="open")
    return f"Case #{case.number}: deleted {deleted} of {who}'s recent messages in <#{where.id}>."
