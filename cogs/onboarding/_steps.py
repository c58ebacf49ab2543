"""Onboarding's steps as a newcomer takes them: rules, interests, buddy talks, intro."""

from __future__ import annotations

from bot.core import (
    ChannelRef,
    Member,
    MessagePosted,
    MessageRef,
    RoleRef,
)
from cogs.onboarding._ladder import Step
from cogs.onboarding._models import OnboardingInterest, OnboardingMember
from cogs.onboarding._service import DAY7, Flow
from cogs.onboarding.events import InterestsChosen


class Steps(Flow):
    """The steps a newcomer completes."""

    async def agree(self, member: Member) -> bool:
        """The member agreed to the rules; False when they already had."""
        row = await self.ensure_member(member)
        if row.rules_at is not None:
            return False
        row.rules_at = self.now
        await self.completed(row, "rules")
        await self.step_done(row, Step.RULES)
        await self.ctx.commit()
        s = self.s
        if s.rules_role is not None:
            await self.grant_role(row.user_id, s.rules_role, "agreed to the rules")
        if s.newcomer_role is not None:
            await self.take_role(row.user_id, s.newcomer_role, "agreed to the rules")
        for channel in s.rules_channels:
            await self.invite(row.user_id, channel, "agreed to the rules")
        return True

    async def pick(self, member: Member, values: tuple[str, ...]) -> list[OnboardingInterest]:
        """Store a member's interests and grant what they open; returns the picked ones."""
        row = await self.ensure_member(member)
        interests = {str(i.id): i for i in await self.repo.interests()}
        chosen = {int(v) for v in values if v in interests}
        before = await self.repo.picks(row.user_id)
        await self.repo.set_picks(row.user_id, chosen, self.now)
        if chosen != before:
            names = tuple(sorted(interests[str(i)].name for i in chosen))
            self.ctx.publish(
                InterestsChosen(
                    community=self.ctx.community,
                    at=self.now,
                    user=self.user(row.user_id),
                    interests=names,
                )
            )
        if chosen and row.interests_at is None:
            row.interests_at = self.now
            await self.completed(row, "interests")
            await self.step_done(row, Step.INTERESTS)
        new_buddy = (
            row.newcomer and row.buddy_id is None and bool(chosen) and await self.assign_buddy(row)
        )
        if new_buddy:
            await self.introduce_buddy(row)
        await self.ctx.commit()
        for interest_id in sorted(chosen - before):
            interest = interests[str(interest_id)]
            if interest.role_id:
                role = RoleRef(self.ctx.community, interest.role_id)
                await self.grant_role(row.user_id, role, f"picked {interest.name}")
            if interest.channel_id:
                channel = ChannelRef(self.ctx.community, interest.channel_id)
                await self.invite(row.user_id, channel, f"picked {interest.name}")
        for interest_id in sorted(before - chosen):
            dropped = interests.get(str(interest_id))
            if dropped is not None and dropped.role_id:
                role = RoleRef(self.ctx.community, dropped.role_id)
                await self.take_role(row.user_id, role, f"dropped {dropped.name}")
        return [interests[str(i)] for i in sorted(chosen)]

    async def talked(self, actor: Member, newcomer_id: str) -> bool:
        """A newcomer or their buddy says they talked."""
        row = await self.repo.member(newcomer_id)
        if row is None or actor.ref.id not in (row.user_id, row.buddy_id):
            return False
        if row.buddy_talked_at is None:
            row.buddy_talked_at = self.now
        return True

    async def posted(self, event: MessagePosted) -> None:
        """Track first posts, intros, first replies, buddy talks and day-7 activity."""
        author = event.author
        if author.is_bot:
            return
        uid = author.ref.id
        row = await self.repo.member(uid)
        names = {user.id for user in event.mentions}
        in_intros = (
            self.s.intro_channel is not None and event.message.channel.id == self.s.intro_channel.id
        )
        if row is not None and row.left_at is None:
            if row.first_post_at is None:
                row.first_post_at = self.now
                await self.step_done(row, Step.SILENT)
            if row.day7_active_at is None and (self.now - row.joined_at).days >= DAY7:
                row.day7_active_at = self.now
            top_level = not event.in_thread and event.reply_to is None
            if in_intros and top_level and row.intro_at is None:
                await self.intro(row, event.message)
            if row.buddy_id and row.buddy_talked_at is None and row.buddy_id in names:
                row.buddy_talked_at = self.now
        answered: list[OnboardingMember] = []
        if event.reply_to is not None:
            owner = await self.repo.intro_by_message(event.reply_to.id)
            if owner is not None:
                answered.append(owner)
        others = names - {uid}
        if others:
            answered += [
                m for m in await self.repo.members_among(others) if in_intros or m.buddy_id == uid
            ]
        for newcomer in answered:
            if newcomer.user_id == uid:
                continue
            if newcomer.intro_at is not None and newcomer.first_reply_at is None:
                newcomer.first_reply_at = self.now
                await self.ctx.timers.cancel(f"reply:{newcomer.user_id}")
            if newcomer.buddy_id == uid and newcomer.buddy_talked_at is None:
                newcomer.buddy_talked_at = self.now

    async def intro(self, row: OnboardingMember, message: MessageRef) -> None:
        """The member's first post in the intro channel is their intro."""
        row.intro_at = self.now
        await self.completed(row, "intro")
        row.intro_channel_id = message.channel.id
        row.intro_message_id = message.id
        await self.step_done(row, Step.INTRO)
        await self.ctx.timers.schedule(
            "intro_reply",
            at=self.now + self.s.intro_reply_after,
            key=f"reply:{row.user_id}",
            payload={"user": row.user_id},
        )
