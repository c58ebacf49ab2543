"""Escalations to the company, the duty schedule, evidence retention and the digest's figures,
from chat. Mixed into the feature (its commands are the feature's commands)."""

from __future__ import annotations

from typing import Annotated, Any

from bot.core import (
    ChannelRef,
    CommandContext,
    JobContext,
    Level,
    Member,
    Pressed,
    Runtime,
    UserError,
    UserRef,
    command,
    component,
    job,
    message_action,
    timer,
)
from bot.core.guard import AddressPolicy
from cogs.moderation import _company, _hook, _retention, _rota
from cogs.moderation._lifecycle import Status
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]
Job = JobContext[ModerationSettings]


class CompanyCommands:
    """``/moderation escalate|resolve|escalation webhook|schedule ...`` and their jobs."""

    hook_policy: AddressPolicy = AddressPolicy()
    """Where the company's webhook may be reached: the public internet, plus what the process
    config allows (``feeds_allow``), set by ``attach``."""

    def attach(self, runtime: Runtime) -> None:
        """Follow the process config: the networks allowed besides the public internet."""
        self.hook_policy = AddressPolicy.allowing(runtime.options.fetch_allow)

    @command("escalate", requires=Level.MOD)
    async def escalate(
        self,
        ctx: Ctx,
        member: Annotated[Member, "The member whose problem it is"],
        summary: Annotated[str, "The problem, in a line for the team"],
        channel: Annotated[ChannelRef | None, "Where to invite others to press Me too"] = None,
    ) -> None:
        """Escalate a member's problem to the team; they hear privately when it's fixed."""
        await ctx.reply(await _company.escalate(ctx, member, summary, channel))

    @message_action("escalate_message", "Escalate to the team", requires=Level.MOD)
    async def escalate_message(self, ctx: Ctx, press: Pressed) -> None:
        """Escalate a member's message to the team (moderators and up)."""
        await ctx.reply(await _company.escalate_message(ctx, press))

    @component("metoo")
    async def me_too(self, ctx: Ctx, press: Pressed) -> None:
        """A member hit the same problem: they hear too when it's fixed."""
        await ctx.reply(await _company.me_too(ctx, press.value))

    @command("resolve", requires=Level.MOD)
    async def resolve(
        self,
        ctx: Ctx,
        case: Annotated[int, "The escalation's case number"],
        note: Annotated[str, "What was fixed (the members who raised it read it)"],
    ) -> None:
        """Close an escalation: everyone who raised it or said Me too is told, in your words."""
        await ctx.reply(await _company.resolve(ctx, str(case), note))

    @component("resolve", requires=Level.MOD)
    async def resolve_pressed(self, ctx: Ctx, press: Pressed) -> None:
        """Resolve from the team's post: ask for the note the members will read."""
        case = await _company.escalation(ctx, press.value)
        if case.status == Status.CLOSED:
            await ctx.reply(f"Case #{case.number} is already resolved.")
            return
        await ctx.open_form(_company.resolve_form(press.value))

    @component("resolved", requires=Level.MOD)
    async def resolved(self, ctx: Ctx, press: Pressed) -> None:
        """The resolution note was written: close the escalation and tell everyone."""
        note = press.fields.get("note", "")
        await ctx.reply(await _company.resolve(ctx, press.value, note))

    @command("escalation webhook", requires=Level.ADMIN)
    async def escalation_webhook(
        self,
        ctx: Ctx,
        url: Annotated[str, "Where escalations are sent (https://…), or off"],
        secret: Annotated[str | None, "The receiver's signing secret (none: I make one)"] = None,
    ) -> None:
        """Send escalations to the company's help desk or tracker, signed (Standard Webhooks)."""
        await ctx.reply(await _hook.set_hook(ctx, url, secret, ctx.actor.ref.id))

    @timer(_hook.SEND)
    async def send_hook(self, ctx: Job, payload: dict[str, Any]) -> None:
        """One try of sending an escalation to the company's webhook."""
        await _hook.send(ctx, payload, self.hook_policy)

    @command("schedule add", requires=Level.MOD)
    async def schedule_add(
        self,
        ctx: Ctx,
        day: Annotated[_rota.Day, "The weekday the range starts"],
        hours: Annotated[str, "Local hours like 09:00-17:00 (22:00-02:00 runs past midnight)"],
        member: Annotated[Member | None, "Whose schedule (admins; default: yours)"] = None,
    ) -> None:
        """Be on duty every week at these hours (the community's time zone)."""
        await ctx.reply(await _rota.add(ctx, _whose(ctx, member), day, hours))

    @command("schedule remove", requires=Level.MOD)
    async def schedule_remove(
        self,
        ctx: Ctx,
        day: Annotated[_rota.Day, "The weekday the range starts"],
        hours: Annotated[str, "The range as added, like 09:00-17:00"],
        member: Annotated[Member | None, "Whose schedule (admins; default: yours)"] = None,
    ) -> None:
        """Take a weekly range off a duty schedule."""
        await ctx.reply(await _rota.remove(ctx, _whose(ctx, member), day, hours))

    @command("schedule list", requires=Level.MOD)
    async def schedule_list(self, ctx: Ctx) -> None:
        """Everyone's weekly duty ranges, in the community's time zone."""
        await ctx.reply(await _rota.listing(ctx))

    @job(cron="40 4 * * *")
    async def remove_old_evidence(self, ctx: Job) -> None:
        """Daily: message text kept as evidence goes once it is older than the retention."""
        await _retention.purge(ctx)

    @job(cron="50 * * * *")
    async def weekly_figures(self, ctx: Job) -> None:
        """Hourly: the last seven days' figures, for the weekly digest's moderation line."""
        await _retention.publish_week(ctx)


def _whose(ctx: Ctx, member: Member | None) -> UserRef:
    """The moderator a schedule command is about: oneself, or (admins) another moderator."""
    if member is None or member.ref.id == ctx.actor.ref.id:
        return ctx.actor.ref
    if ctx.actor.level < Level.ADMIN:
        raise UserError("Only admins change another moderator's schedule.")
    return member.ref
