"""The onboarding feature: newcomers meet the rules, interests, an intro and a buddy."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from bot.core import (
    CommandContext,
    Context,
    Feature,
    JobContext,
    Level,
    Member,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    Message,
    MessagePosted,
    PlatformReady,
    Pressed,
    UserError,
    UserRef,
    command,
    component,
    mention,
    on,
    plural,
    timer,
)
from cogs.onboarding import _admin
from cogs.onboarding._arrivals import Arrivals
from cogs.onboarding._ladder import Step
from cogs.onboarding._reminders import Reminders
from cogs.onboarding._service import Flow
from cogs.onboarding._steps import Steps
from cogs.onboarding._texts import interest_label, interests_select
from cogs.onboarding.settings import OnboardingSettings

Ctx = CommandContext[OnboardingSettings]
Listen = Context[OnboardingSettings]
Job = JobContext[OnboardingSettings]


class Onboarding(Feature, name="onboarding"):
    """Welcome newcomers: rules, interests, intros, buddies, nudges and a funnel."""

    Settings = OnboardingSettings
    port_calls = frozenset({"add_role", "remove_role", "add_to_channel", "count_members"})

    # -- what members do ---------------------------------------------------------------------

    @on(MemberJoined)
    async def joined(self, ctx: Listen, event: MemberJoined) -> None:
        """Welcome a newcomer, or a member who came back."""
        await Arrivals(ctx).join(event.member)

    @on(PlatformReady)
    async def ready(self, ctx: Listen, event: PlatformReady) -> None:
        """Welcome newcomers a stopped Steward stored but had not welcomed yet, and those who
        joined while no Steward ran (Discord tells them on ready; Slack lists everyone)."""
        await Arrivals(ctx).catch_up(event.at, event.joined, event.members)

    @on(MemberUpdated)
    async def reactivated(self, ctx: Listen, event: MemberUpdated) -> None:
        """Slack brings a deactivated member back as an update: that is a rejoin."""
        flow = Arrivals(ctx)
        row = await flow.repo.member(event.member.ref.id)
        if row is not None and row.left_at is not None:
            await flow.join(event.member)

    @on(MemberLeft)
    async def left(self, ctx: Listen, event: MemberLeft) -> None:
        """Stop a leaver's nudges; keep their progress for a possible return."""
        await Arrivals(ctx).leave(event.user.id)

    async def forget_member(self, ctx: Listen, user: UserRef) -> None:
        """Delete the member's onboarding record, interests, buddy entry and pending nudges."""
        await Arrivals(ctx).forget(user.id)

    @on(MessagePosted)
    async def posted(self, ctx: Listen, event: MessagePosted) -> None:
        """Intros, first replies, buddy talks and day-7 activity."""
        await Steps(ctx).posted(event)

    @component("start")
    async def start_pressed(self, ctx: Ctx, press: Pressed) -> None:
        """Show the presser their own onboarding, privately."""
        await self.start(ctx)

    @command("start")
    async def start(self, ctx: Ctx) -> None:
        """See the rules, agree to them and pick your interests (only you see it)."""
        flow = Flow(ctx)
        row = await flow.ensure_member(ctx.actor)
        text = "Here's how to get started."
        await ctx.reply(await flow.private_onboarding(row, text, in_dm=False))

    @component("agree")
    async def agree(self, ctx: Ctx, press: Pressed) -> None:
        """The presser agrees to the rules."""
        if await Steps(ctx).agree(ctx.actor):
            await ctx.reply("Thanks for agreeing to the rules! The rest of the community is open.")
        else:
            await ctx.reply("You've already agreed to the rules. Thanks!")

    @component("pick")
    async def pick(self, ctx: Ctx, press: Pressed) -> None:
        """The presser picked interests."""
        picked = await Steps(ctx).pick(ctx.actor, press.values)
        names = ", ".join(interest_label(i) for i in picked) or "nothing"
        await ctx.reply(f"Got it! Your interests: {names}.")

    @component("talked")
    async def talked(self, ctx: Ctx, press: Pressed) -> None:
        """A newcomer or their buddy says they talked."""
        if not await Steps(ctx).talked(ctx.actor, press.value):
            raise UserError("That button is for a newcomer and their buddy.")
        await ctx.reply("Lovely, noted that you two talked!")

    @command("interests")
    async def interests(self, ctx: Ctx) -> None:
        """Pick (or change) your interests."""
        flow = Flow(ctx)
        options = await flow.repo.interests()
        if not options:
            raise UserError("There are no interests to pick here yet.")
        picked = await flow.repo.picks(ctx.actor.ref.id)
        now = ", ".join(interest_label(i) for i in options if i.id in picked) or "none yet"
        text = f"Your interests: {now}. Pick below."
        await ctx.reply(Message(text=text, selects=(interests_select(options),)))

    @command("me")
    async def me(self, ctx: Ctx) -> None:
        """Your own onboarding progress (only you see it)."""
        await _admin.status(ctx, ctx.actor, own=True)

    @command("buddy join")
    async def buddy_join(
        self, ctx: Ctx, capacity: Annotated[int | None, "How many newcomers at once"] = None
    ) -> None:
        """Join the buddy pool (or come back from a pause)."""
        await _admin.buddy(ctx, "join", capacity)

    @command("buddy leave")
    async def buddy_leave(self, ctx: Ctx) -> None:
        """Leave the buddy pool."""
        await _admin.buddy(ctx, "leave", None)

    @command("buddy pause")
    async def buddy_pause(self, ctx: Ctx) -> None:
        """Take no new newcomers for now."""
        await _admin.buddy(ctx, "pause", None)

    # -- what managers do --------------------------------------------------------------------

    @command("rules set", requires=Level.ADMIN)
    async def rules_set(
        self, ctx: Ctx, text: Annotated[str, "The rules, as members read them"]
    ) -> None:
        """Set the rules newcomers agree to."""
        await _admin.set_rules(ctx, text)

    @command("welcome set", requires=Level.ADMIN)
    async def welcome_set(
        self, ctx: Ctx, template: Annotated[str, "Text with {member}, {community}, {buddy}..."]
    ) -> None:
        """Set the welcome message template."""
        await _admin.set_welcome(ctx, template)

    @command("interest add", requires=Level.ADMIN)
    async def interest_add(
        self,
        ctx: Ctx,
        name: Annotated[str, "The interest's name"],
        emoji: Annotated[str | None, "An emoji shown with it (- for none)"] = None,
        opens: Annotated[
            str | None, "Role, user group and/or channel it opens: @python #python"
        ] = None,
    ) -> None:
        """Add or change an interest members can pick."""
        role, where = _admin.parse_opens(opens or "", ctx.community)
        await _admin.add_interest(ctx, name, emoji, role, where)

    @command("interest remove", requires=Level.ADMIN)
    async def interest_remove(self, ctx: Ctx, name: Annotated[str, "The interest's name"]) -> None:
        """Remove an interest."""
        await _admin.remove_interest(ctx, name)

    @command("interest list", requires=Level.ADMIN)
    async def interest_list(self, ctx: Ctx) -> None:
        """List the interests and what they grant."""
        await _admin.list_interests(ctx)

    @command("buddy list", requires=Level.MOD)
    async def buddy_list(self, ctx: Ctx) -> None:
        """Show the buddy pool and each buddy's load."""
        await _admin.show_pool(ctx)

    @command("funnel", requires=Level.MOD)
    async def funnel(
        self, ctx: Ctx, period: Annotated[timedelta | None, "How far back, like 8w"] = None
    ) -> None:
        """Weekly cohorts from join to day 7, with a chart."""
        await _admin.funnel(ctx, period)

    @command("status", requires=Level.MOD)
    async def status(self, ctx: Ctx, member: Annotated[Member, "Whose progress"]) -> None:
        """One member's onboarding progress."""
        await _admin.status(ctx, member, own=False)

    @command("preview", requires=Level.ADMIN)
    async def preview(self, ctx: Ctx) -> None:
        """Walk through onboarding as a newcomer would, privately; nothing is recorded."""
        await _admin.preview(ctx, 1)

    @component("preview", requires=Level.ADMIN)
    async def preview_next(self, ctx: Ctx, press: Pressed) -> None:
        """The next page of the preview."""
        await _admin.preview(ctx, int(press.value or "1"))

    @component("preview_agree", requires=Level.ADMIN)
    async def preview_agree(self, ctx: Ctx, press: Pressed) -> None:
        """What agreeing would do, without doing it."""
        s = ctx.settings
        gives = [f"the role {mention(s.rules_role)}"] if s.rules_role else []
        gives += [f"an invitation to {mention(c)}" for c in s.rules_channels]
        await ctx.reply(f"(Preview) Agreeing would give: {', '.join(gives) or 'nothing yet'}.")

    @component("preview_pick", requires=Level.ADMIN)
    async def preview_pick(self, ctx: Ctx, press: Pressed) -> None:
        """What picking would do, without doing it."""
        await ctx.reply(
            f"(Preview) Picked {plural(len(press.values), 'interest')}; nothing was stored."
        )

    # -- timers ------------------------------------------------------------------------------

    @timer("nudge")
    async def nudge(self, ctx: Job, payload: dict[str, Any]) -> None:
        """A nudge on the ladder came due."""
        await Reminders(ctx).nudge(str(payload["user"]), Step(payload["step"]))

    @timer("intro_reply")
    async def intro_reply(self, ctx: Job, payload: dict[str, Any]) -> None:
        """An intro waited for a reply long enough."""
        await Reminders(ctx).unanswered_intro(str(payload["user"]))

    @timer("buddy_check")
    async def buddy_check(self, ctx: Job, payload: dict[str, Any]) -> None:
        """The buddy week is over."""
        await Reminders(ctx).buddy_check(str(payload["user"]))


__all__ = ["Onboarding"]
