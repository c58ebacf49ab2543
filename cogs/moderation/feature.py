"""The moderation feature: numbered cases, warnings, timeouts, kicks and bans, from chat."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from bot.core import (
    ChannelRef,
    CommandContext,
    Context,
    Feature,
    JobContext,
    Level,
    Member,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    MessagePosted,
    ModeratedInClient,
    Pressed,
    UserRef,
    command,
    component,
    message_action,
    on,
    timer,
)
from cogs.moderation import (
    _actions,
    _appeals,
    _bans,
    _cases,
    _climb,
    _company,
    _duty,
    _in_client,
    _reports,
    _returns,
    _rota,
    _stats,
    _texts,
    _timeouts,
)
from cogs.moderation._authority import Act
from cogs.moderation._automod_commands import AutomodCommands
from cogs.moderation._choices import CaseKind, CaseStatus
from cogs.moderation._company_commands import CompanyCommands
from cogs.moderation._repo import Repo
from cogs.moderation._screening import Screening
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]
Listen = Context[ModerationSettings]
Job = JobContext[ModerationSettings]


class Moderation(AutomodCommands, CompanyCommands, Feature, name="moderation"):
    """Cases for every action, with the member told and the moderators' log kept."""

    Settings = ModerationSettings
    port_calls = frozenset(
        {
            "timeout",
            "kick",
            "ban",
            "unban",
            "delete_message",
            "purge",
            "myself",
            "channels",
            "remove_from_channel",
        }
    )

    def __init__(self) -> None:
        self.screening = Screening()

    async def forget_member(self, ctx: Listen, user: UserRef) -> None:
        """Forget the member's recent pace; their cases stay, as the community's record of what
        was done and why (voiding, not deleting, is how a case stops counting)."""
        self.screening.forget_author(ctx.community.key, user.id)
        await _duty.set_duty(ctx, user, on=False)
        await _rota.forget(ctx, user)
        await _company.forget(ctx, user)

    @on(MessagePosted)
    async def posted(self, ctx: Listen, event: MessagePosted) -> None:
        """Screen a member's message against the community's automod rules."""
        await self.screening.screen(ctx, event)

    @on(ModeratedInClient)
    async def in_client(self, ctx: Listen, event: ModeratedInClient) -> None:
        """A moderator banned, unbanned, kicked or timed out someone in Discord's own client."""
        await _in_client.record(ctx, event)

    @command("warn", requires=Level.MOD)
    async def warn(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who to warn"],
        reason: Annotated[str, "Why (they will read it)"],
    ) -> None:
        """Warn a member: they are told why, and the warning counts on the ladder."""
        case = await _cases.act(ctx, Act.WARN, member, reason, ctx.settings.warn_points)
        said = f"Case #{case.number}: warned <@{member.ref.id}>.{_texts.delivered(case)}"
        step = await _climb.climb(ctx, member.ref)
        if step is not None:
            said += f" The escalation ladder opened case #{step.number}: {step.kind}."
        await ctx.reply(said)

    @command("timeout", requires=Level.MOD)
    async def timeout(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who to time out"],
        duration: Annotated[timedelta, "How long, like 30m, 1d (at most 28d)"],
        reason: Annotated[str, "Why (they will read it)"],
    ) -> None:
        """Stop a member talking for a while; they are told why first."""
        _case, said = await _actions.sanction(ctx, Act.TIMEOUT, member, reason, duration)
        await ctx.reply(said)

    @command("kick", requires=Level.MOD)
    async def kick(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who to remove"],
        reason: Annotated[str, "Why (they will read it)"],
    ) -> None:
        """Remove a member (they can come back); they are told why before they go."""
        _case, said = await _actions.sanction(ctx, Act.KICK, member, reason)
        await ctx.reply(said)

    @command("ban", requires=Level.MOD)
    async def ban(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who to ban"],
        reason: Annotated[str, "Why (they will read it)"],
        duration: Annotated[timedelta | None, "Lift it after, like 7d (none: for good)"] = None,
    ) -> None:
        """Ban a member, for good or for a while; they are told why before they go."""
        await ctx.reply(await _bans.ban(ctx, member, reason, duration))

    @command("unban", requires=Level.MOD)
    async def unban(
        self,
        ctx: Ctx,
        case: Annotated[int, "The ban's case number"],
        reason: Annotated[str, "Why the ban is lifted"],
    ) -> None:
        """Lift the ban of a case (it opens an unban case of its own)."""
        ban = await _cases.find(ctx, case)
        await ctx.reply(await _bans.lift(ctx, ban, by=ctx.actor.ref.id, reason=reason))

    @timer(_bans.LIFT)
    async def lift_ban(self, ctx: Job, payload: dict[str, Any]) -> None:
        """A timed ban's time is up."""
        await _bans.expire(ctx, int(payload["case"]))

    @command("purge", requires=Level.MOD)
    async def purge(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Whose messages to delete"],
        count: Annotated[int, "How many of their latest (1-100)"] = 20,
        channel: Annotated[ChannelRef | None, "Where (default: here)"] = None,
    ) -> None:
        """Delete a member's latest messages in a channel (Discord; on Slack an admin must)."""
        await ctx.reply(await _actions.purge(ctx, member, count, channel))

    @command("note", requires=Level.MOD)
    async def note(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who the note is about"],
        text: Annotated[str, "The note (only moderators read it)"],
    ) -> None:
        """Keep a note about a member; they are not told and it carries no points."""
        case = await _cases.act(ctx, Act.NOTE, member, text, 0)
        await ctx.reply(f"Case #{case.number}: note about <@{member.ref.id}> kept.")

    @command("case", requires=Level.MOD)
    async def case(self, ctx: Ctx, number: Annotated[int, "The case number"]) -> None:
        """Show one case in full, with everything done on it."""
        found = await _cases.find(ctx, number)
        history = await Repo(ctx.uow.session, ctx.community).history(found)
        await ctx.reply(_texts.detail(found, history))

    @command("cases", requires=Level.MOD)
    async def cases(
        self,
        ctx: Ctx,
        member: Annotated[Member | None, "Only this member's cases"] = None,
        moderator: Annotated[Member | None, "Only cases this moderator opened"] = None,
        status: Annotated[CaseStatus | None, "Only cases in this state"] = None,
        kind: Annotated[CaseKind | None, "Only this kind of case"] = None,
    ) -> None:
        """List the newest cases, filtered by member, moderator, status or kind."""
        rows = await Repo(ctx.uow.session, ctx.community).cases(
            member.ref.id if member is not None else None,
            actor=moderator.ref.id if moderator is not None else None,
            status=status,
            kind=kind,
        )
        if not rows:
            filtered = any(v is not None for v in (member, moderator, status, kind))
            await ctx.reply("No cases match." if filtered else "No cases yet.")
            return
        await ctx.reply("\n".join(_texts.summary(r) for r in rows))

    @command("stats", requires=Level.MOD)
    async def stats(
        self, ctx: Ctx, period: Annotated[timedelta, "How far back, like 7d"] = timedelta(days=7)
    ) -> None:
        """Reports and how fast they were taken and closed, open cases, actions by kind."""
        await ctx.reply(await _stats.stats(ctx, period) + "\n" + await _company.open_line(ctx))

    @command("reason", requires=Level.MOD)
    async def reason(
        self,
        ctx: Ctx,
        number: Annotated[int, "The case number"],
        text: Annotated[str, "The new reason"],
    ) -> None:
        """Change a case's reason (the old one stays in its history)."""
        case = await _cases.amend(ctx, number, reason=text)
        await ctx.reply(f"Case #{case.number}: reason changed.")

    @command("void", requires=Level.MOD)
    async def void(
        self,
        ctx: Ctx,
        number: Annotated[int, "The case number"],
        why: Annotated[str, "Why it no longer counts"],
    ) -> None:
        """Void a case: it stays on record but no longer counts."""
        case = await _cases.amend(ctx, number, void=why)
        await ctx.reply(f"Case #{case.number} is void; it stays on record but no longer counts.")

    @component("done", requires=Level.MOD)
    async def done(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator says the action Steward asked for by hand was done."""
        await ctx.reply(await _actions.done_by_hand(ctx, int(press.value or "0")))

    # -- member reports ----------------------------------------------------------------------

    @command("report")
    async def report(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who you are reporting"],
        what: Annotated[str, "What happened (only the moderators read it)"],
    ) -> None:
        """Tell the moderators privately about a member; you hear back when they're done."""
        await ctx.reply(await _reports.report(ctx, member, what))

    @message_action("report_message", "Report message")
    async def report_message(self, ctx: Ctx, press: Pressed) -> None:
        """Report a message to the moderators (only they learn who reported it)."""
        await ctx.reply(await _reports.report_message(ctx, press))

    @command("ask", requires=Level.MOD)
    async def ask(
        self,
        ctx: Ctx,
        case: Annotated[int, "The report's case number"],
        question: Annotated[str, "What to ask the reporter"],
        anonymous: Annotated[bool, "Keep your name from them (default: yes)"] = True,
    ) -> None:
        """Ask a reporter a question privately; their answer comes back to the staff."""
        await ctx.reply(await _reports.ask(ctx, case, question, anonymous))

    @component("answer")
    async def answer(self, ctx: Ctx, press: Pressed) -> None:
        """The reporter opens the form to answer the moderators."""
        await _reports.reporter_case(ctx, press.value)
        await ctx.open_form(_reports.answer_form(press.value))

    @component("answered")
    async def answered(self, ctx: Ctx, press: Pressed) -> None:
        """The reporter's answer goes to the staff and onto the case."""
        await ctx.reply(await _reports.answered(ctx, press.value, press.fields.get("answer", "")))

    @command("reports bar", requires=Level.MOD)
    async def reports_bar(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who may no longer report"],
        why: Annotated[str, "Why (only moderators read it)"],
    ) -> None:
        """Stop a member reporting in bad faith (voiding the case lifts it)."""
        await ctx.reply(await _reports.bar(ctx, member, why))

    @command("duty", requires=Level.MOD)
    async def duty(
        self, ctx: Ctx, state: Annotated[Literal["on", "off"], "on: new reports ping you"]
    ) -> None:
        """Go on or off duty: new reports ping whoever is on duty first."""
        await ctx.reply(await _duty.set_duty(ctx, ctx.actor.ref, state == "on"))

    @timer(_duty.RAISE)
    async def report_waits(self, ctx: Job, payload: dict[str, Any]) -> None:
        """A report nobody acknowledged in time is raised to more people."""
        await _duty.raise_report(ctx, int(payload["case"]), int(payload["stage"]))

    @component("ack", requires=Level.MOD)
    async def acknowledge(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator takes a report on."""
        await ctx.reply(await _reports.acknowledge(ctx, press.value))

    @component("dismiss", requires=Level.MOD)
    async def dismiss(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator dismisses a report; the reporter hears no action was taken."""
        await ctx.reply(await _reports.dismiss(ctx, press.value))

    @component("act", requires=Level.MOD)
    async def act_picked(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator picked an action on a report: ask the reason the member will read."""
        await ctx.open_form(_reports.action_form(press.value, press.values[0]))

    @component("act_reason", requires=Level.MOD)
    async def act_reason(self, ctx: Ctx, press: Pressed) -> None:
        """Carry out the action picked on a report, with the reason given."""
        reason = press.fields.get("reason", "")
        await ctx.reply(await _reports.take_action(ctx, press.value, reason))

    # -- appeals and returns (section 7) ----------------------------------------------------

    @command("appeal")
    async def appeal(
        self,
        ctx: Ctx,
        case: Annotated[int, "The case number (it is in the notice you got)"],
        why: Annotated[str, "Why the moderators should look again"],
    ) -> None:
        """Ask the moderators, once, to look again at a warning, timeout, kick or ban of yours."""
        await ctx.reply(await _appeals.appeal(ctx, case, why))

    @component("appeal", outsiders=True)
    async def appeal_pressed(self, ctx: Ctx, press: Pressed) -> None:
        """The member pressed Appeal in their notice (after a ban too): the form, or the answer
        when they appealed already."""
        shown = await _appeals.press(ctx, press.value)
        if isinstance(shown, str):
            await ctx.reply(shown)
        else:
            await ctx.open_form(shown)

    @component("appealed", outsiders=True)
    async def appealed(self, ctx: Ctx, press: Pressed) -> None:
        """The member's appeal, written in the form: to the staff, onto the case."""
        why = press.fields.get("why", "")
        await ctx.reply(await _appeals.appeal(ctx, _appeals.number(press.value), why))

    @component("uphold", requires=Level.MOD)
    async def uphold(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator upholds an appeal: the case stands; the member is told."""
        await ctx.reply(await _appeals.decide(ctx, press.value, overturn=False))

    @component("overturn", requires=Level.MOD)
    async def overturn(self, ctx: Ctx, press: Pressed) -> None:
        """A moderator overturns an appeal: the action is lifted and its points voided."""
        await ctx.reply(await _appeals.decide(ctx, press.value, overturn=True))

    @timer(_timeouts.ENDED)
    async def timeout_ended(self, ctx: Job, payload: dict[str, Any]) -> None:
        """A timeout's time is up: its case says so."""
        await _timeouts.ended(ctx, int(payload["case"]))

    @on(MemberLeft)
    async def member_left(self, ctx: Listen, event: MemberLeft) -> None:
        """A member with cases left (or was removed): their cases say so."""
        await _returns.left(ctx, event)

    @on(MemberJoined)
    async def member_joined(self, ctx: Listen, event: MemberJoined) -> None:
        """A member with open or recent cases came back: the staff are told."""
        await _returns.returned(ctx, event.member.ref, event.at, joined=True)

    @on(MemberUpdated)
    async def member_updated(self, ctx: Listen, event: MemberUpdated) -> None:
        """Slack: an account active again after it left counts as coming back."""
        await _returns.returned(ctx, event.member.ref, event.at, joined=False)
