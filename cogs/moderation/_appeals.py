"""Appeals: the member a warn, timeout, kick or ban is about asks the moderators, once, to look
again; a moderator upholds or overturns it, and the member is told privately.

The notice a member gets carries an Appeal button. It must work after a kick or ban, when the
member is no longer in the community (Discord lets the press through for this button only), so
the check is that the presser is the case's target, never that they are a member. The appeal
lands with the staff with Uphold and Overturn buttons. Deciding is one audited move, taken by
whoever is first: the case's status is changed only if it is still ``appealed`` (a compare and
set the database settles), so the slower of two moderators is told who decided, and a second
press of the same button changes nothing. Overturning lifts what is left of the action (a ban,
a timeout; on Slack a workspace admin is asked, with Mark done) and voids the case's points.
Either way the case then closes, and the member is told; a member Steward cannot reach (Discord
lets a bot message only people who share a server with it) sees the answer by pressing Appeal
again.
"""

from __future__ import annotations

from sqlalchemy import update

from bot.core import Button, Capability, Context, Form, Message, TextInput, UserError, UserRef
from bot.core.parsing import digits_value
from bot.core.staff import staff_message
from cogs.moderation import _bans, _cases, _notify, _timeouts
from cogs.moderation._cases import Ctx
from cogs.moderation._lifecycle import Case, Move, MoveRefused, Status, apply
from cogs.moderation._models import ModerationCase, ModerationCaseEvent
from cogs.moderation._repo import Repo
from cogs.moderation._texts import APPEALABLE
from cogs.moderation.settings import ModerationSettings

_DECIDED = {Status.UPHELD: "upheld", Status.OVERTURNED: "overturned"}


def form(case: ModerationCase) -> Form:
    """The form a member writes their appeal in."""
    return Form(
        action="appealed",
        title=f"Appeal case #{case.number}",
        value=str(case.number),
        inputs=(
            TextInput("why", "Why should the moderators look again?", long=True, max_length=1000),
        ),
    )


def number(value: str) -> int:
    """The case number a button or form carries (anyone can send any value)."""
    found = digits_value(value)
    if found is None:
        raise UserError("That button doesn't name a case; please use the one in your notice.")
    return found


async def _own_case(ctx: Ctx, number: int) -> ModerationCase:
    """Case ``number``, when the presser is the member it is about; else a refusal that says
    nothing about the case."""
    case = await Repo(ctx.uow.session, ctx.community).case(number)
    if case is None or case.target_id != ctx.actor.ref.id:
        raise UserError("You can appeal only a case about you; its number is in the notice.")
    if case.kind not in APPEALABLE:
        raise UserError(f"Case #{number} is not something that can be appealed.")
    return case


def _decision(history: list[ModerationCaseEvent]) -> ModerationCaseEvent | None:
    return next((e for e in history if e.move in (Move.UPHOLD, Move.OVERTURN)), None)


async def _already(ctx: Ctx, case: ModerationCase) -> str | None:
    """What a member who appealed before is told now (None: they have not appealed)."""
    history = await Repo(ctx.uow.session, ctx.community).history(case)
    if not any(e.move == Move.APPEAL for e in history):
        return None
    decided = _decision(history)
    if decided is None:
        return (
            f"You appealed case #{case.number} already (one appeal per case); the moderators "
            "haven't decided yet."
        )
    return outcome(case, decided.after == Status.OVERTURNED).text


async def press(ctx: Ctx, value: str) -> Form | str:
    """The member pressed Appeal: the form, or why not (or the answer, when decided)."""
    case = await _own_case(ctx, number(value))
    said = await _already(ctx, case)
    if said is not None:
        return said
    _check(case)
    return form(case)


def _check(case: ModerationCase) -> None:
    if case.voided:
        raise UserError(f"Case #{case.number} no longer counts; there is nothing to appeal.")
    if case.status == Status.OPEN:
        raise UserError(
            f"Case #{case.number} hasn't been carried out yet; you can appeal once it has."
        )


async def appeal(ctx: Ctx, number: int, why: str) -> str:
    """File the member's appeal of case ``number`` (once), and post it for the staff."""
    case = await _own_case(ctx, number)
    said = await _already(ctx, case)
    if said is not None:
        return said
    _check(case)
    why = why.strip()
    if not why:
        raise UserError("Please say why the moderators should look again.")
    await _move(ctx, case, Move.APPEAL, f"appeal:{case.number}", note=why)
    await _notify.modlog(ctx, case, f"appealed by <@{case.target_id}>", key="appeal")
    channel, role = await _notify.staff_place(ctx)
    if channel is None:
        ctx.log.warning("case #%s was appealed, but no staff channel or mod-log is set", number)
    else:
        shown = staff_message(_staff_text(case, why), role)
        n = str(case.number)
        post = Message(
            text=shown.text,
            ping_roles=shown.ping_roles,
            buttons=(
                Button("uphold", "Uphold", value=n),
                Button("overturn", "Overturn", value=n, style="danger"),
            ),
        )
        await ctx.deliver(channel, post, key=f"appeal:{case.number}")
    reach = (
        "; if I can't reach you (Discord lets me message only people in the server), press "
        "Appeal again to see their answer."
        if ctx.community.platform == "discord"
        else "."
    )
    return (
        f"Your appeal of case #{case.number} went to the moderators. I'll tell you privately "
        f"what they decide{reach}"
    )


def _staff_text(case: ModerationCase, why: str) -> str:
    """The appeal as the staff read it."""
    return (
        f"Case #{case.number}: <@{case.target_id}> appeals the {case.kind} ({case.reason}): {why}"
    )


async def _show_decided(ctx: Ctx, case: ModerationCase, why: str, word: str) -> None:
    """Edit the staff's post of the appeal: the decision and who took it, and no buttons left
    to press (the post pinged the staff once; the edit pings nobody)."""
    post = f"appeal:{case.number}"
    made = await ctx.delivery(post)
    if made is None:
        return  # there was nowhere to post it
    channel = made.message.channel if made.message is not None else None
    if channel is None:
        channel, _role = await _notify.staff_place(ctx)
    if channel is None:
        return
    text = f"{_staff_text(case, why)}\n{word.capitalize()} by <@{ctx.actor.ref.id}>."
    await ctx.edit(channel, Message(text=text), of=post, key=f"{post}:shown")


async def _move(
    ctx: Ctx, case: ModerationCase, move: Move, key: str, note: str | None = None
) -> None:
    """One audited move of the case; the status changes only from what it was when read, so
    of two moderators deciding at once one wins and the other is refused."""
    repo = Repo(ctx.uow.session, ctx.community)
    before = Status(case.status)
    now = ctx.clock.now()
    try:
        after = apply(Case(case.target_id, before), move, ctx.actor.ref.id, now, key, 0).status
    except MoveRefused as exc:
        raise UserError(str(exc)) from exc
    changed = await ctx.uow.session.execute(
        update(ModerationCase)
        .where(ModerationCase.id == case.id, ModerationCase.status == before)
        .values(status=after)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await ctx.uow.session.refresh(case)
        raise UserError(await _first(ctx, case))
    case.status = after
    await repo.record(
        case,
        move=move,
        before=before,
        after=after,
        actor=ctx.actor.ref.id,
        at=now,
        key=key,
        note=note,
    )


async def _first(ctx: Ctx, case: ModerationCase) -> str:
    """What the slower of two moderators is told."""
    decided = _decision(await Repo(ctx.uow.session, ctx.community).history(case))
    if decided is None:
        return f"Case #{case.number} is {case.status} now, not waiting for a decision."
    word = _DECIDED.get(Status(decided.after), decided.after)
    return (
        f"Someone got there first: <@{decided.actor_id}> {word} the appeal of case #{case.number}."
    )


async def decide(ctx: Ctx, value: str, *, overturn: bool) -> str:
    """A moderator upholds or overturns an appeal; the member is told, the case closes."""
    case = await _cases.find(ctx, number(value))
    history = await Repo(ctx.uow.session, ctx.community).history(case)
    decided = _decision(history)
    if decided is not None:
        if decided.actor_id == ctx.actor.ref.id and (decided.move == Move.OVERTURN) == overturn:
            return f"Case #{case.number}: the appeal is already {_DECIDED[Status(decided.after)]}."
        return await _first(ctx, case)
    if case.status != Status.APPEALED:
        raise UserError(f"Case #{case.number} has no appeal waiting.")
    step = Move.OVERTURN if overturn else Move.UPHOLD
    await _move(ctx, case, step, f"appeal:{case.number}:decision")
    lifted = ""
    if overturn:
        case.voided, case.void_reason = True, "overturned on appeal"
        await ctx.timers.cancel(_timeouts.timer_key(case))
    await _move(ctx, case, Move.CLOSE, f"appeal:{case.number}:close")
    word = "overturned" if overturn else "upheld"
    await _notify.modlog(ctx, case, f"appeal {word} by <@{ctx.actor.ref.id}>", key="decided")
    why = next((e.note for e in history if e.move == Move.APPEAL), None) or ""
    await _show_decided(ctx, case, why, word)
    member = UserRef(ctx.community, case.target_id)
    await ctx.deliver(member, outcome(case, overturn), key=f"appeal:told:{case.number}")
    await ctx.commit()  # decided and recorded before the platform is asked to lift anything
    if overturn:
        lifted = await lift(ctx, case)
    return f"Case #{case.number}: appeal {word}; <@{case.target_id}> is told.{lifted}"


def outcome(case: ModerationCase, overturned: bool) -> Message:
    """What the member is told about their appeal."""
    if overturned:
        undone = {
            "ban": " The ban is lifted, and you're welcome to come back.",
            "timeout": " The timeout is lifted.",
            "kick": " You're welcome to come back.",
        }.get(case.kind, "")
        text = (
            f"The moderators looked again at case #{case.number} and overturned it: it no "
            f"longer counts against you.{undone}"
        )
    else:
        text = (
            f"The moderators looked again at case #{case.number} and upheld it: it stands. "
            "Thank you for explaining your side."
        )
    return Message(title=f"About your appeal of case #{case.number}", text=text)


async def lift(ctx: Context[ModerationSettings], case: ModerationCase) -> str:
    """Undo what is left of an overturned action; what to add for the moderator."""
    who = f"<@{case.target_id}>"
    by = f"appeal:{case.number}"
    if case.kind == "ban":
        try:
            said = await _bans.lift(ctx, case, by=by, reason=f"case #{case.number} overturned")
        except UserError:
            return " The ban had already been lifted."
        return f" {said}"
    if case.kind not in ("timeout", "kick"):
        return ""
    if Capability.TIMEOUT not in ctx.port.capabilities:
        return await _reactivate(ctx, case)
    if case.kind == "kick":
        return ""  # nothing stays after a kick on Discord: they may come back
    target = UserRef(ctx.community, case.target_id)
    channel, _role = await _notify.staff_place(ctx)
    done = await ctx.attempt(
        f"lift the timeout of {who} (case #{case.number})",
        ctx.port.timeout(target, None, reason=f"Case #{case.number} overturned on appeal"),
        key=f"lift:{case.number}",
        meanwhile="The timeout stays until someone lifts it.",
        channel=channel,
    )
    return " The timeout is lifted." if done else " The platform refused to lift the timeout."


async def _reactivate(ctx: Context[ModerationSettings], case: ModerationCase) -> str:
    """Slack: a workspace admin deactivated the account by hand for the case; they are asked
    to reactivate it, with a Mark done button (an ``unban`` case of its own)."""
    repo = Repo(ctx.uow.session, ctx.community)
    lifting = await repo.open(
        kind="unban",
        target=case.target_id,
        actor=f"appeal:{case.number}",
        reason=f"case #{case.number} overturned on appeal",
        points=0,
        status=Status.OPEN,
        at=ctx.clock.now(),
    )
    todo = (
        f"case #{case.number} was overturned: if a workspace admin deactivated "
        f"<@{case.target_id}>'s account for it, they can reactivate it now"
    )
    await _notify.by_hand(ctx, lifting, f"{todo}, then press Mark done.")
    await _notify.modlog(ctx, lifting, key="open", note="Waiting for a workspace admin.")
    await ctx.commit()
    return f" Case #{lifting.number} asks a workspace admin to reactivate the account."
