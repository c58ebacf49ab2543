"""Onboarding's timers: nudges, unanswered intros and the end of the buddy week."""

from __future__ import annotations

from bot.core import (
    ChannelRef,
    Message,
    MessageRef,
    UserError,
    mention,
    plural,
)
from cogs.onboarding._ladder import SEND, Step, decide, due_together
from cogs.onboarding._models import OnboardingMember
from cogs.onboarding._service import Flow, nudge_key
from cogs.onboarding._texts import nudge_message


class Reminders(Flow):
    """What comes due later."""

    async def unanswered_intro(self, user_id: str) -> None:
        """Nobody answered an intro in time: ping the buddy and the greeters under it."""
        row = await self.repo.member(user_id)
        if row is None or row.first_reply_at is not None or row.left_at is not None:
            return
        if row.intro_message_id is None or row.intro_channel_id is None:
            return
        user = self.user(user_id)
        buddy = self.user(row.buddy_id) if row.buddy_id else None
        who = [f"{mention(buddy)} (their buddy)"] if buddy else []
        if self.s.greeter_role is not None:
            who.append(mention(self.s.greeter_role))
        text = (
            f"{mention(user)}'s intro hasn't had a reply yet. "
            f"{' and '.join(who) or 'Greeters'}, could one of you say hello?"
        )
        message = Message(
            text=text,
            ping_users=frozenset({buddy}) if buddy else frozenset(),
            ping_roles=frozenset({self.s.greeter_role}) if self.s.greeter_role else frozenset(),
        )
        intro = MessageRef(
            ChannelRef(self.ctx.community, row.intro_channel_id), row.intro_message_id
        )
        try:
            await self.ctx.port.reply(intro, message)
        except UserError:
            if self.s.greeters_channel is not None:
                await self.ctx.port.send(self.s.greeters_channel, message)

    async def nudge(self, user_id: str, step: Step) -> None:
        """A nudge came due: send it once, unless the step is done or it is quiet time. The
        member's other reminders due by now (after a long wait, or downtime) go in the same
        message, and their timers are dropped."""
        row = await self.repo.member(user_id)
        if row is None:
            return
        quiet, ladder, progress = await self.quiet(), await self.ladder(), self.progress(row)
        decision = decide(step, progress, ladder, self.now, quiet)
        if decision.action == "wait" and decision.at is not None:
            await self.ctx.timers.schedule(
                "nudge",
                at=decision.at,
                key=nudge_key(user_id, step),
                payload={"user": user_id, "step": step.value},
            )
            return
        if decision is not SEND:
            return
        steps = due_together(step, progress, ladder, self.now, quiet) or [step]
        for other in steps:
            if other is not step:
                await self.ctx.timers.cancel(nudge_key(user_id, other))
        row.nudged = {**row.nudged, **{s.value: self.now.isoformat() for s in steps}}
        new_buddy = (
            Step.INTERESTS in steps and row.buddy_id is None and await self.assign_buddy(row)
        )
        if new_buddy:
            await self.introduce_buddy(row)
        await self.ctx.commit()
        if step is Step.SILENT:
            await self.silent(row)
            return
        welcome = self.s.welcome_channel
        message = nudge_message(
            steps,
            intro_channel=self.intro_mention(),
            interactive=self.dm_buttons(),
            start_here=mention(welcome) if welcome and self.s.welcome_where != "dm" else None,
        )
        about = " and ".join(s.value for s in steps)
        await self.reach(row, message, f"a reminder about {about}")
        await self.ctx.commit()

    async def silent(self, row: OnboardingMember) -> None:
        """The greeters hear about a member who hasn't said anything yet."""
        days = (self.now - (row.returned_at or row.joined_at)).days
        text = (
            f"{mention(self.user(row.user_id))} joined {plural(days, 'day')} ago and hasn't "
            "said anything yet. A friendly hello might help!"
        )
        if self.s.greeters_channel is not None:
            await self.ctx.port.send(self.s.greeters_channel, self.greeters_message(text))

    async def buddy_check(self, user_id: str) -> None:
        """The buddy week is over: record whether they talked."""
        row = await self.repo.member(user_id)
        if row is not None and row.buddy_talked_at is None:
            row.buddy_missed = True
