"""Escalating a member's problem to the company, and closing the loop.

A manager escalates a member's message (its menu: "Escalate to the team") or a member's problem
(``/moderation escalate``). It becomes an ``escalation`` case with the message's snapshot as
evidence, posted where the escalations go (with a Resolve button), and sent to the company's
signed webhook when one is set (``_hook``). A short public note where the message was invites
members who hit the same problem to press **Me too**. When a manager resolves the case with a
note, everyone who raised it or added themselves is told privately, in the manager's words
(with every ping made inert).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import (
    Button,
    ChannelRef,
    Context,
    Form,
    Member,
    Message,
    Pressed,
    TextInput,
    UserError,
    UserRef,
)
from bot.core.parsing import format_duration
from bot.core.staff import staff_message
from bot.core.templates import neutralize_pings, shorten
from cogs.moderation import _cases, _hook, _notify
from cogs.moderation._cases import Ctx
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase, ModerationEscalationMember
from cogs.moderation._repo import Repo
from cogs.moderation._reports import move
from cogs.moderation.settings import ModerationSettings

ESCALATION = "escalation"
SUMMARY_MAX = 300


async def escalate_message(ctx: Ctx, press: Pressed) -> str:
    """A manager escalated a message from its menu: the message's words are the summary (the
    manager can change it with ``/moderation reason``)."""
    picked = _cases.snapshot(press)
    author = picked.author
    member = await ctx.port.fetch_member(UserRef(ctx.community, author)) if author else None
    if member is None:
        raise UserError("Whoever wrote that is no longer here; use `/moderation escalate`.")
    summary = shorten(" ".join(press.fields.get("text", "").split()), SUMMARY_MAX)
    summary = summary or "(a message with files only)"
    return await escalate(ctx, member, summary, picked.where, picked.evidence)


async def escalate(
    ctx: Ctx,
    member: Member,
    summary: str,
    public: ChannelRef | None,
    evidence: str | None = None,
) -> str:
    """Open the escalation case, post it for the team, queue the webhook, and invite "Me too"
    in ``public`` (none: no public note); returns what the manager is told."""
    summary = " ".join(summary.split())
    if not summary:
        raise UserError("Please say what the problem is, in a line the team will read.")
    if member.is_bot:
        raise UserError("That's a bot's message; escalate a member's problem.")
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    case = await repo.open_flag(
        kind=ESCALATION,
        move="escalate",
        target=member.ref.id,
        actor=ctx.actor.ref.id,
        reason=shorten(summary, SUMMARY_MAX),
        evidence=evidence,
        at=now,
    )
    ctx.uow.session.add(
        ModerationEscalationMember(
            case_id=case.id, user_id=member.ref.id, added_at=now, raised=True
        )
    )
    hooked = await _hook.queue(ctx, case, _hook.OPENED)
    channel = ctx.settings.escalation_channel or (await _notify.staff_place(ctx))[0]
    if channel is None:
        ctx.log.warning("escalation case #%s, but no escalation or staff channel", case.number)
    else:
        await ctx.deliver(channel, _team_post(case, evidence), key=f"escalation:{case.number}")
    if public is not None:
        await ctx.deliver(public, _public_note(case), key=f"metoo:{case.number}")
    await _notify.modlog(ctx, case, key="open")
    said = f"Case #{case.number}: escalated to the team."
    if channel is not None:
        said += f" It is posted in <#{channel.id}>."
    if hooked:
        said += " It is on its way to the team's webhook."
    if public is not None:
        said += " Members who hit the same problem can press Me too under the note I posted."
    return said + f" `/moderation resolve {case.number} <note>` tells them all when it's fixed."


def _team_post(case: ModerationCase, evidence: str | None) -> Message:
    """The escalation as the team sees it, with the button that resolves it."""
    text = (
        f"Case #{case.number}: <@{case.actor_id}> escalated a problem <@{case.target_id}> "
        f"raised: {neutralize_pings(case.reason)}"
    )
    if evidence is not None:
        text += f"\nMessage: {neutralize_pings(evidence)}"
    shown = staff_message(text, None)
    button = Button("resolve", "Resolve", value=str(case.number), style="primary")
    return Message(text=shown.text, buttons=(button,))


def _public_note(case: ModerationCase) -> Message:
    """The note members see: what was escalated (the manager's words, inert), and Me too."""
    return Message(
        text=(
            f"The team has been told about this: {neutralize_pings(case.reason)} "
            f"(case #{case.number}). Hit the same problem? Press Me too and I'll tell you "
            "privately when it's fixed."
        ),
        buttons=(Button("metoo", "Me too", value=str(case.number)),),
    )


async def escalation(ctx: Ctx, value: str) -> ModerationCase:
    """The escalation case a button or command is about."""
    case = await _cases.find(ctx, int(value.split(":")[0] or "0"))
    if case.kind != ESCALATION:
        raise UserError(f"Case #{case.number} is not an escalation.")
    return case


async def _resolution(ctx: Ctx, case: ModerationCase) -> str | None:
    rows = await Repo(ctx.uow.session, ctx.community).history(case)
    return next((e.note for e in rows if e.move == "resolve"), None)


async def me_too(ctx: Ctx, value: str) -> str:
    """A member who hit the same problem adds themselves (once)."""
    case = await escalation(ctx, value)
    user = ctx.actor.ref.id
    if case.status == Status.CLOSED:
        note = await _resolution(ctx, case)
        fixed = f" The team says: {neutralize_pings(note)}" if note else ""
        return f"The team has already fixed this.{fixed}"
    found = await ctx.uow.session.scalar(
        select(ModerationEscalationMember.id).where(
            ModerationEscalationMember.case_id == case.id,
            ModerationEscalationMember.user_id == user,
        )
    )
    if found is not None:
        return "You're already on the list; I'll tell you privately when it's fixed."
    now = ctx.clock.now()
    ctx.uow.session.add(
        ModerationEscalationMember(case_id=case.id, user_id=user, added_at=now, raised=False)
    )
    await Repo(ctx.uow.session, ctx.community).record(
        case,
        move="metoo",
        actor=user,
        at=now,
        key=f"metoo:{user}",
    )
    return "Thanks, you're on the list: I'll tell you privately when it's fixed."


def resolve_form(value: str) -> Form:
    """The form a manager writes the resolution in (members read it)."""
    return Form(
        action="resolved",
        title="Resolve the escalation",
        value=value,
        inputs=(
            TextInput("note", "What was fixed (members will read it)", long=True, max_length=1000),
        ),
    )


async def resolve(ctx: Ctx, value: str, note: str) -> str:
    """Close the escalation with ``note``; everyone who raised it or said Me too is told."""
    case = await escalation(ctx, value)
    note = note.strip()
    if not note:
        raise UserError("Please write what was fixed; the members who raised it will read it.")
    if case.status == Status.CLOSED:
        return f"Case #{case.number} is already resolved."
    key = f"escalation:{case.number}"
    await move(ctx, case, Move.ACTION, f"{key}:action")
    await Repo(ctx.uow.session, ctx.community).record(
        case,
        move="resolve",
        actor=ctx.actor.ref.id,
        at=ctx.clock.now(),
        key=f"{key}:resolve",
        note=note,
    )
    await move(ctx, case, Move.CLOSE, f"{key}:close")
    told = await followers(ctx.uow.session, case)
    text = (
        "The problem you raised with the team is fixed. In the team's words: "
        f"{neutralize_pings(note)}"
    )
    for user in told:
        await ctx.deliver(
            UserRef(ctx.community, user),
            Message(title=f"Fixed: {neutralize_pings(case.reason)}"[:200], text=text),
            key=f"fixed:{case.number}:{user}",
        )
    await _hook.queue(ctx, case, _hook.RESOLVED)
    people = "member was" if len(told) == 1 else "members were"
    return f"Case #{case.number} resolved; {len(told)} {people} told privately."


async def followers(session: AsyncSession, case: ModerationCase) -> list[str]:
    """Who raised the escalation, then who said Me too, in the order they came."""
    rows = await session.scalars(
        select(ModerationEscalationMember.user_id)
        .where(ModerationEscalationMember.case_id == case.id)
        .order_by(ModerationEscalationMember.id)
    )
    return list(rows)


async def open_line(ctx: Ctx) -> str:
    """``/moderation stats``: escalations waiting for a fix, and how long the oldest has."""
    count, oldest = await waiting(ctx.uow.session, ctx.community.key)
    if not count:
        return "Escalations open: none."
    waited = ctx.clock.now() - (oldest or ctx.clock.now())
    age = format_duration(max(timedelta(minutes=waited // timedelta(minutes=1)), timedelta(0)))
    return f"Escalations open: {count} (oldest waiting {age})."


async def waiting(session: AsyncSession, community: str) -> tuple[int, datetime | None]:
    """How many escalations are open in ``community``, and when the oldest was opened."""
    found = (
        await session.execute(
            select(func.count(), func.min(ModerationCase.created_at)).where(
                ModerationCase.community_id == community,
                ModerationCase.kind == ESCALATION,
                ModerationCase.status != Status.CLOSED,
                ModerationCase.voided.is_(False),
            )
        )
    ).one()
    return int(found[0] or 0), found[1]


async def forget(ctx: Context[ModerationSettings], user: UserRef) -> None:
    """A member asks to be forgotten: they leave every escalation's list (the cases stay)."""
    rows = await ctx.uow.session.scalars(
        select(ModerationEscalationMember)
        .join(ModerationCase, ModerationCase.id == ModerationEscalationMember.case_id)
        .where(
            ModerationCase.community_id == ctx.community.key,
            ModerationEscalationMember.user_id == user.id,
        )
    )
    for row in rows:
        await ctx.uow.session.delete(row)
