"""Opening and changing cases: check, write, commit, tell the member, record, log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from bot.core import ChannelRef, CommandContext, Context, Level, Member, Pressed, UserError
from cogs.moderation import _notify
from cogs.moderation._authority import Act, Standing, refusal
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]
# Where the platform ranks roles (Discord), a member's highest role's position is their place;
# elsewhere (Slack) their level stands for it, and Steward sits above every level it can act on.
STEWARD = Standing("steward", Level.ADMIN, top_role=int(Level.OWNER), is_bot=True)


def standing(member: Member) -> Standing:
    """A member's place in the community, as the authorization policy takes it."""
    top = member.top_role if member.top_role is not None else int(member.level)
    return Standing(member.ref.id, member.level, top, member.is_bot, member.level is Level.OWNER)


async def own_standing(ctx: Context[ModerationSettings]) -> Standing:
    """Steward's own place: its id and, on Discord, its highest role as the gateway told it."""
    me = await ctx.port.myself(ctx.community)
    if me is None:
        return STEWARD
    top = me.top_role if me.top_role is not None else STEWARD.top_role
    return Standing(me.ref.id, Level.ADMIN, top, is_bot=True)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A message picked from its menu (to report or escalate it), as a case keeps it."""

    author: str
    """The id of whoever wrote it ("" when the platform did not say)."""
    shown: str
    """Its text, with its files' names."""
    where: ChannelRef
    evidence: str
    """The evidence line: where and when it was said, and what."""


def snapshot(press: Pressed) -> Snapshot:
    """The message a menu was used on, from the fields the adapters fill."""
    text = press.fields.get("text", "")
    files = [f for f in press.fields.get("files", "").split("\n") if f]
    shown = text + "".join(f" [file: {f}]" for f in files)
    at = press.fields.get("at", "")[:16].replace("T", " ")
    where = press.message.channel if press.message is not None else press.channel
    author = press.fields.get("author", "")
    return Snapshot(author, shown, where, f"<#{where.id}> {at} UTC: {shown}")


def audit_key() -> str:
    """An audit key for a command (each run of a command is one request)."""
    return f"cmd:{uuid.uuid4().hex}"


async def open_case(
    ctx: Ctx,
    act: Act,
    member: Member,
    reason: str,
    points: int,
    *,
    duration: timedelta | None = None,
    actioned: bool = True,
    kind: str | None = None,
) -> ModerationCase:
    """Check who acts on whom, then write the case (actioned: with its audited move) and commit."""
    steward = await own_standing(ctx)
    why = refusal(act, standing(ctx.actor), standing(member), steward, duration=duration)
    if why is not None:
        raise UserError(why)
    reason = reason.strip()
    if not reason:
        raise UserError("Please give a reason; the member and the other moderators will read it.")
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    status = Status.ACTIONED if actioned else Status.OPEN
    case = await repo.open(
        kind=kind or act.value,
        target=member.ref.id,
        actor=ctx.actor.ref.id,
        reason=reason,
        points=points,
        status=status,
        at=now,
    )
    if actioned:
        await repo.record(
            case,
            move=Move.ACTION,
            before=Status.OPEN,
            after=Status.ACTIONED,
            actor=ctx.actor.ref.id,
            at=now,
            key=audit_key(),
        )
    await ctx.uow.commit()  # the case exists before anything is sent or done
    return case


async def act(ctx: Ctx, act: Act, member: Member, reason: str, points: int) -> ModerationCase:
    """Open an actioned case for ``act`` on ``member``; tell them; post it in the mod-log."""
    case = await open_case(ctx, act, member, reason, points)
    if act is Act.WARN:
        await _notify.tell_member(ctx, case, member.ref)
    await _notify.modlog(ctx, case, key="open")
    return case


async def find(ctx: Ctx, number: int) -> ModerationCase:
    """Case ``number`` of this community, or a friendly refusal."""
    case = await Repo(ctx.uow.session, ctx.community).case(number)
    if case is None:
        raise UserError(f"There is no case #{number} here. `/moderation cases` lists them.")
    return case


async def amend(
    ctx: Ctx, number: int, *, reason: str | None = None, void: str | None = None
) -> ModerationCase:
    """Change a case's reason, or void it (never delete it); each change is audited and logged."""
    case = await find(ctx, number)
    text = (reason if reason is not None else void or "").strip()
    if not text:
        raise UserError("Please say what the new text is." if void is None else "Please say why.")
    repo = Repo(ctx.uow.session, ctx.community)
    if void is not None:
        if case.voided:
            raise UserError(f"Case #{number} is already void.")
        case.voided, case.void_reason = True, text
        change = f"voided by <@{ctx.actor.ref.id}>: {text}"
        move = "void"
    else:
        case.reason = text
        change = f"reason changed by <@{ctx.actor.ref.id}>: {text}"
        move = "reason"
    version = await repo.record(
        case,
        move=move,
        actor=ctx.actor.ref.id,
        at=ctx.clock.now(),
        key=audit_key(),
        note=text,
    )
    await _notify.modlog(ctx, case, change, key=f"v{version}")
    await ctx.uow.commit()
    return case
