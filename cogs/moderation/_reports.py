"""Member reports: a case for the staff with buttons, the reporter thanked and told the outcome.

A member reports another member privately; the report becomes an open case posted where the
staff are told, with buttons to acknowledge or dismiss it and a pick of actions. Nobody but the
staff learns who reported. When the case is closed the reporter hears that the moderators took
action, or reviewed it and took none, never what was done to whom. Reports are limited per day,
and a member who reports in bad faith can be barred (a ``reportbar`` case: voiding it lifts it).
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import (
    Button,
    Form,
    Member,
    Message,
    Option,
    Pressed,
    RoleRef,
    Select,
    TextInput,
    UserError,
    UserRef,
    mention,
)
from bot.core.staff import staff_message
from cogs.moderation import _cases, _duty, _notify
from cogs.moderation._actions import sanction
from cogs.moderation._authority import Act
from cogs.moderation._cases import Ctx
from cogs.moderation._climb import climb
from cogs.moderation._lifecycle import Case, Move, MoveRefused, Status, apply
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo

REPORT = "report"
BAR = "reportbar"
THANKS = (
    "Thanks for telling us. The moderators will look into it, and I'll let you know privately "
    "when they're done. Nobody else is told that you reported this."
)
ACTIONS = (
    Option("Warn", "warn"),
    Option("Time out for 1 hour", "timeout:1h"),
    Option("Time out for 1 day", "timeout:1d"),
    Option("Remove (kick)", "kick"),
    Option("Ban", "ban"),
)
_DURATIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
TOLD = {
    Status.ACTIONED: "The moderators reviewed the report you made and took action. Thank you "
    "for looking out for the community.",
    Status.DISMISSED: "The moderators reviewed the report you made and took no action this "
    "time. Thank you for looking out for the community.",
}


async def report_message(ctx: Ctx, press: Pressed) -> str:
    """A member reported a message from its menu: a report with the message's snapshot."""
    picked = _cases.snapshot(press)
    author = picked.author
    member = await ctx.port.fetch_member(UserRef(ctx.community, author)) if author else None
    if member is None:
        raise UserError("Whoever wrote that is no longer here; please tell a moderator directly.")
    reason = f"this message: {picked.shown[:300]}"
    return await report(ctx, member, reason, evidence=picked.evidence)


async def report(ctx: Ctx, member: Member, reason: str, *, evidence: str | None = None) -> str:
    """Open a report case about ``member`` (with the message's ``evidence``), post it for the
    staff; returns the thanks."""
    reporter = ctx.actor.ref
    if member.ref.id == reporter.id:
        raise UserError("You can't report yourself.")
    if member.is_bot:
        raise UserError("Bots can't be reported here; please tell a moderator directly.")
    reason = reason.strip()
    if not reason:
        raise UserError("Please say what happened; only the moderators will read it.")
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    if await repo.barred(reporter.id):
        raise UserError(
            "The moderators have paused reports from you. If something is wrong, please "
            "message a moderator directly."
        )
    limit = ctx.settings.reports_per_day
    if await repo.count(REPORT, actor=reporter.id, since=now - timedelta(days=1)) >= limit:
        raise UserError(
            f"You've made {limit} reports today, the most one member can; the moderators are "
            "on them. Please try again tomorrow."
        )
    case = await repo.open_flag(
        kind=REPORT,
        move="report",
        target=member.ref.id,
        actor=reporter.id,
        reason=reason,
        evidence=evidence,
        at=now,
    )
    await _duty.arm(ctx, case)
    channel, role = await _notify.staff_place(ctx)
    if channel is None:
        ctx.log.warning("report case #%s, but no staff channel or mod-log is set", case.number)
    else:
        post = _staff_post(case, role, await _duty.on_duty(ctx))
        await ctx.deliver(channel, post, key=f"report:{case.number}")
    return THANKS


def _staff_post(case: ModerationCase, role: RoleRef | None, duty: list[UserRef]) -> Message:
    """The report as the staff see it (pinging who is on duty, else the staff role), with what
    they can do about it."""
    text = f"Case #{case.number}: <@{case.actor_id}> reported <@{case.target_id}>: {case.reason}"
    if duty:
        text = " ".join(mention(u) for u in duty) + " " + text
    shown = staff_message(text, None if duty else role, frozenset(duty))
    n = str(case.number)
    return Message(
        text=shown.text,
        ping_roles=shown.ping_roles,
        ping_users=shown.ping_users,
        buttons=(
            Button("ack", "Acknowledge", value=n, style="primary"),
            Button("dismiss", "Dismiss", value=n),
        ),
        selects=(Select("act", ACTIONS, placeholder="Take action…", value=n),),
    )


async def move(ctx: Ctx, case: ModerationCase, step: Move, key: str) -> bool:
    """Make one audited move on a case; False when this ``key`` (a press) already made it."""
    repo = Repo(ctx.uow.session, ctx.community)
    if any(e.key == key for e in await repo.history(case)):
        return False
    before = Status(case.status)
    try:
        after = apply(Case(case.target_id, before), step, ctx.actor.ref.id, ctx.clock.now(), key, 0)
    except MoveRefused as exc:
        raise UserError(str(exc)) from exc
    version = await repo.record(
        case,
        move=step,
        before=before,
        after=after.status,
        actor=ctx.actor.ref.id,
        at=ctx.clock.now(),
        key=key,
    )
    case.status = after.status
    await _duty.disarm(ctx, case)
    change = f"{after.status} by <@{ctx.actor.ref.id}>"
    await _notify.modlog(ctx, case, change, key=f"v{version}")
    return True


async def report_case(ctx: Ctx, value: str) -> ModerationCase:
    """The report case a button or pick is about."""
    case = await _cases.find(ctx, int(value.split(":")[0] or "0"))
    if case.kind != REPORT:
        raise UserError(f"Case #{case.number} is not a report.")
    return case


async def acknowledge(ctx: Ctx, value: str, press: str = REPORT) -> str:
    """A moderator takes the report on."""
    case = await report_case(ctx, value)
    await move(ctx, case, Move.ACKNOWLEDGE, f"{press}:ack")
    return f"Case #{case.number}: you have it. The others see it acknowledged in the mod-log."


async def dismiss(ctx: Ctx, value: str, press: str = REPORT) -> str:
    """No action: the report is dismissed and closed, and the reporter told."""
    case = await report_case(ctx, value)
    if not await move(ctx, case, Move.DISMISS, f"{press}:dismiss"):
        return f"Case #{case.number} is already {case.status}."
    await close(ctx, case, press)
    return f"Case #{case.number} dismissed; the reporter was told no action was taken."


async def close(ctx: Ctx, case: ModerationCase, press: str) -> None:
    """Close a decided report and tell the reporter the outcome (never what was done)."""
    told = TOLD[Status(case.status)]
    await move(ctx, case, Move.CLOSE, f"{press}:close")
    reporter = UserRef(ctx.community, case.actor_id)
    await ctx.deliver(
        reporter, Message(title="About your report", text=told), key=f"told:{case.number}"
    )


def action_form(value: str, picked: str) -> Form:
    """Ask the moderator for the reason the member will read (the report's words stay
    private: they could tell who reported)."""
    return Form(
        action="act_reason",
        title="Take action",
        value=f"{value}:{picked}",
        inputs=(TextInput("reason", "Reason (the member will read it)", max_length=500),),
    )


async def take_action(ctx: Ctx, value: str, reason: str, press: str = REPORT) -> str:
    """Carry out the picked action on the reported member, then close the report."""
    number, picked = value.split(":", 1)
    case = await report_case(ctx, number)
    if case.status not in (Status.OPEN, Status.ACKNOWLEDGED):
        raise UserError(f"Case #{case.number} is already {case.status}.")
    member = await ctx.port.fetch_member(UserRef(ctx.community, case.target_id))
    if member is None:
        raise UserError("That member is no longer here; use `/moderation ban` to keep them out.")
    act, _, length = picked.partition(":")
    if act == Act.WARN:
        done = await _cases.act(ctx, Act.WARN, member, reason, ctx.settings.warn_points)
        await climb(ctx, member.ref)
        said = f"Case #{done.number}: warned <@{member.ref.id}>."
    else:
        _done, said = await sanction(ctx, Act(act), member, reason, _DURATIONS.get(length))
    await move(ctx, case, Move.ACTION, f"{press}:action")
    await close(ctx, case, press)
    return f"{said} Report #{case.number} is closed; the reporter was told action was taken."


async def bar(ctx: Ctx, member: Member, why: str) -> str:
    """Stop a member reporting (a case on them; voiding it lifts the bar)."""
    repo = Repo(ctx.uow.session, ctx.community)
    if await repo.barred(member.ref.id):
        raise UserError(f"<@{member.ref.id}> is already barred from reporting.")
    case = await _cases.open_case(ctx, Act.NOTE, member, why, 0, kind=BAR)
    await _notify.modlog(ctx, case, key="open")
    return (
        f"Case #{case.number}: <@{member.ref.id}> can no longer report. "
        f"`/moderation void {case.number}` lifts it."
    )


async def ask(ctx: Ctx, number: int, question: str, anonymous: bool) -> str:
    """Ask the reporter a question through Steward (the moderator unnamed when ``anonymous``);
    the answer comes back to the staff and onto the case."""
    case = await report_case(ctx, str(number))
    question = question.strip()
    if not question:
        raise UserError("Please write the question.")
    version = await Repo(ctx.uow.session, ctx.community).record(
        case,
        move="ask",
        actor=ctx.actor.ref.id,
        at=ctx.clock.now(),
        key=f"ask:{ctx.clock.now().timestamp()}",
        note=question,
    )
    who = "A moderator" if anonymous else f"<@{ctx.actor.ref.id}>"
    message = Message(
        title="A question about your report",
        text=f"{who} asks: {question}",
        buttons=(Button("answer", "Answer", value=str(case.number), style="primary"),),
    )
    reporter = UserRef(ctx.community, case.actor_id)
    await ctx.deliver(reporter, message, key=f"ask:{case.number}:{version}")
    return f"Asked the reporter of case #{case.number}; their answer will be posted to the staff."


def answer_form(value: str) -> Form:
    """The form a reporter answers in."""
    return Form(
        action="answered",
        title="Answer the moderators",
        value=value,
        inputs=(TextInput("answer", "Your answer", long=True, max_length=1000),),
    )


async def reporter_case(ctx: Ctx, value: str) -> ModerationCase:
    """The report a reporter's button is about; only its reporter may use it."""
    case = await report_case(ctx, value)
    if case.actor_id != ctx.actor.ref.id:
        raise UserError("That button is for the member who made the report.")
    return case


async def answered(ctx: Ctx, value: str, text: str) -> str:
    """The reporter's answer: onto the case, and to the staff."""
    case = await reporter_case(ctx, value)
    text = text.strip()
    if not text:
        raise UserError("Please write your answer.")
    await Repo(ctx.uow.session, ctx.community).record(
        case,
        move="answer",
        actor=ctx.actor.ref.id,
        at=ctx.clock.now(),
        key=f"answer:{ctx.clock.now().timestamp()}",
        note=text,
    )
    await _notify.alert(
        ctx,
        f"Case #{case.number}: the reporter answers: {text}",
        key=f"answer:{case.number}:{ctx.clock.now().timestamp()}",
    )
    return "Thank you; the moderators have your answer."
