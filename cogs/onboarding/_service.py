"""Onboarding's flows for one handler call: write, commit, act, then record what happened."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from bot.core import (
    Button,
    Capability,
    ChannelRef,
    Context,
    Member,
    Message,
    MessagePosted,
    MessageRef,
    NotSupported,
    RoleRef,
    UserError,
    UserRef,
    mention,
)
from cogs.onboarding._buddies import Candidate, choose_buddy
from cogs.onboarding._ladder import SEND, Ladder, Progress, Quiet, Step, decide, plan
from cogs.onboarding._models import OnboardingInterest, OnboardingMember
from cogs.onboarding._repo import Repo
from cogs.onboarding._texts import (
    nudge_text,
    onboarding_message,
    welcome_template,
    welcome_text,
)
from cogs.onboarding.settings import OnboardingSettings

_MENTION = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>")
DAY7 = 7


def mentioned(text: str) -> set[str]:
    """The user ids a message mentions, in either platform's form."""
    return set(_MENTION.findall(text))


def nudge_key(user_id: str, step: Step) -> str:
    """The timer key of one member's nudge for one step."""
    return f"nudge:{user_id}:{step.value}"


class Flow:
    """Onboarding as one handler call sees it: the context, its settings and its tables."""

    def __init__(self, ctx: Context[OnboardingSettings]) -> None:
        self.ctx = ctx
        self.s = ctx.settings
        self.repo = Repo(ctx.uow.session, ctx.community)
        self.now = ctx.clock.now()

    # -- small helpers ----------------------------------------------------------------------

    def user(self, user_id: str) -> UserRef:
        """A user of this community."""
        return UserRef(self.ctx.community, user_id)

    def intro_mention(self) -> str | None:
        """The intro channel as a link."""
        return mention(self.s.intro_channel) if self.s.intro_channel else None

    async def quiet(self) -> Quiet:
        """The community's quiet hours."""
        shared = await self.ctx.community_settings()
        return Quiet(shared.tz(), shared.quiet_start, shared.quiet_end)

    async def ladder(self) -> Ladder:
        """The ladder, without the steps this community has nothing for."""
        s = self.s
        applies = set(Step)
        config = await self.repo.peek_config()
        if config is None or not config.rules_text:
            applies.discard(Step.RULES)
        if not await self.repo.interests():
            applies.discard(Step.INTERESTS)
        if s.intro_channel is None:
            applies.discard(Step.INTRO)
        delays = {
            Step.RULES: s.nudge_rules_after,
            Step.INTERESTS: s.nudge_interests_after,
            Step.INTRO: s.nudge_intro_after,
            Step.SILENT: s.silent_alert_after,
        }
        return Ladder(delays, frozenset(applies))

    @staticmethod
    def progress(row: OnboardingMember) -> Progress:
        """A row as the ladder sees it; the ladder counts from the latest return."""
        return Progress(
            joined_at=row.returned_at or row.joined_at,
            rules_at=row.rules_at,
            interests_at=row.interests_at,
            intro_at=row.intro_at,
            first_post_at=row.first_post_at,
            nudged=frozenset(Step(k) for k in row.nudged if k in Step.__members__.values()),
            present=row.left_at is None,
        )

    async def schedule_nudges(self, row: OnboardingMember) -> None:
        """Put each still-needed nudge on a durable timer."""
        for step, at in plan(self.progress(row), await self.ladder(), await self.quiet()).items():
            await self.ctx.timers.schedule(
                "nudge",
                at=at,
                key=nudge_key(row.user_id, step),
                payload={"user": row.user_id, "step": step.value},
            )

    async def step_done(self, row: OnboardingMember, step: Step) -> None:
        """A step is done: its nudge will never come."""
        await self.ctx.timers.cancel(nudge_key(row.user_id, step))

    async def ensure_member(self, member: Member) -> OnboardingMember:
        """A member's row; members who were here before Steward get one on first use."""
        row = await self.repo.member(member.ref.id)
        if row is None:
            row = self.new_row(member)
            row.newcomer = False
            self.ctx.uow.session.add(row)
            await self.ctx.uow.session.flush()
        return row

    def new_row(self, member: Member) -> OnboardingMember:
        """A fresh row for someone who joins now."""
        return OnboardingMember(
            community_id=self.ctx.community.key,
            user_id=member.ref.id,
            display_name=member.display_name[:200],
            joined_at=self.now,
            newcomer=True,
            rejoins=0,
            dm_open=True,
            buddy_missed=False,
            nudged={},
        )

    # -- acting, and telling managers once what went wrong -----------------------------------

    async def report(self, key: str, text: str) -> None:
        """Tell the managers about a setup problem, once per problem."""
        if not await self.repo.first_report(key, self.now):
            return
        await self.ctx.commit()
        if self.s.greeters_channel is not None:
            await self.ctx.port.send(self.s.greeters_channel, Message(text=text))
        else:
            self.ctx.log.warning("onboarding setup problem (no greeters channel): %s", text)

    async def attempt(self, key: str, what: str, call: Awaitable[Any]) -> bool:
        """Do one platform action; when refused, report it once and let the flow go on."""
        try:
            await call
        except NotSupported:
            await self.report(
                f"unsupported:{key}",
                f"Onboarding can't {what} on {self.ctx.port.platform.capitalize()}; "
                "change the onboarding settings to use what this platform offers.",
            )
            return False
        except UserError as exc:
            await self.report(
                key,
                f"Onboarding couldn't {what}. {exc.message} "
                "Members keep going through onboarding meanwhile.",
            )
            return False
        return True

    async def grant_role(self, user_id: str, role: RoleRef, why: str) -> None:
        """Give a role, reporting a refusal once."""
        await self.attempt(
            f"role:{role.id}",
            f"give the role {mention(role)}",
            self.ctx.port.add_role(self.user(user_id), role, reason=why),
        )

    async def take_role(self, user_id: str, role: RoleRef, why: str) -> None:
        """Take a role away, reporting a refusal once."""
        await self.attempt(
            f"unrole:{role.id}",
            f"take away the role {mention(role)}",
            self.ctx.port.remove_role(self.user(user_id), role, reason=why),
        )

    async def invite(self, user_id: str, channel: ChannelRef, why: str) -> None:
        """Bring a member into a channel, reporting a refusal once."""
        await self.attempt(
            f"channel:{channel.id}",
            f"invite members to {mention(channel)}",
            self.ctx.port.add_to_channel(self.user(user_id), channel, reason=why),
        )

    async def reach(self, row: OnboardingMember, message: Message, about: str) -> str:
        """DM a member; if their DMs are closed, mention them in the welcome channel, or tell
        the greeters. Returns where it went."""
        user = self.user(row.user_id)
        if row.dm_open and await self.ctx.port.dm(user, message) is not None:
            return "dm"
        row.dm_open = False
        if self.s.welcome_channel is not None:
            public = Message(
                text=f"{mention(user)} {message.text}",
                buttons=(Button("start", "Show me my onboarding", style="primary"),),
                ping_users=frozenset({user}),
            )
            await self.ctx.port.send(self.s.welcome_channel, public)
            return "channel"
        if self.s.greeters_channel is not None:
            text = f"I couldn't reach {mention(user)} by DM ({about}). Could someone help them?"
            await self.ctx.port.send(self.s.greeters_channel, self.greeters_message(text))
            return "greeters"
        return "nowhere"

    def greeters_message(self, text: str, ping: frozenset[UserRef] = frozenset()) -> Message:
        """A message for the greeters, pinging their role."""
        role = self.s.greeter_role
        prefix = f"{mention(role)} " if role else ""
        return Message(
            text=prefix + text,
            ping_roles=frozenset({role}) if role else frozenset(),
            ping_users=ping,
        )

    # -- the newcomer's own onboarding message ------------------------------------------------

    async def private_onboarding(self, row: OnboardingMember, text: str, *, in_dm: bool) -> Message:
        """Rules, interests and the intro invitation for this member, as things stand."""
        config = await self.repo.peek_config()
        welcome = self.s.welcome_channel
        return onboarding_message(
            text,
            rules=config.rules_text if config else None,
            agreed=row.rules_at is not None,
            interests=await self.repo.interests(),
            intro_channel=self.intro_mention(),
            interactive=not in_dm or self.dm_buttons(),
            start_here=mention(welcome) if welcome and self.s.welcome_where != "dm" else None,
        )

    def dm_buttons(self) -> bool:
        """Whether buttons in DMs come back to Steward on this platform."""
        return Capability.DM_COMPONENTS in self.ctx.port.capabilities

    async def welcome_for(self, row: OnboardingMember, count: int | None) -> str:
        """The manager's welcome template filled in for this member."""
        config = await self.repo.peek_config()
        return welcome_text(
            welcome_template(config.welcome_template if config else None),
            member=mention(self.user(row.user_id)),
            community=self.s.community_name,
            member_count=count,
            rules=config.rules_text if config else None,
            intro_channel=self.intro_mention(),
            buddy=mention(self.user(row.buddy_id)) if row.buddy_id else None,
        )

    # -- joining and leaving -----------------------------------------------------------------

    async def join(self, member: Member) -> None:
        """Welcome a newcomer (or a member back) exactly once, assign a buddy, plan nudges."""
        if member.is_bot:
            return
        row = await self.repo.member(member.ref.id)
        back = False
        if row is not None:
            if row.left_at is None and row.newcomer:
                return  # the same join delivered twice: welcomed once already
            if row.newcomer and row.left_at and self.now - row.left_at <= self.s.rejoin_window:
                back = True
                row.left_at = None
                row.rejoins += 1
                row.returned_at = self.now
            else:
                await self.ctx.uow.session.delete(row)
                await self.repo.set_picks(member.ref.id, set(), self.now)
                row = None
        if row is None:
            row = self.new_row(member)
            self.ctx.uow.session.add(row)
            await self.ctx.uow.session.flush()
        new_buddy = False
        if row.buddy_id is None and not await self.repo.interests():
            # With interests to pick, the buddy waits for the picks (see ``pick``).
            new_buddy = await self.assign_buddy(row)
        await self.schedule_nudges(row)
        await self.ctx.commit()
        await self.welcome(row, back=back, new_buddy=new_buddy)
        row.welcomed_at = self.now
        await self.ctx.commit()

    async def assign_buddy(self, row: OnboardingMember) -> bool:
        """Pick a buddy from the pool; True when one was found."""
        pool = await self.repo.pool()
        if not pool:
            return False
        loads = await self.repo.loads(self.now - self.s.buddy_check_after)
        picks = await self.repo.all_picks()
        candidates = [
            Candidate(
                b.user_id,
                b.capacity if b.capacity is not None else self.s.buddy_capacity,
                loads.get(b.user_id, 0),
                b.paused,
                frozenset(picks.get(b.user_id, set())),
            )
            for b in pool
        ]
        chosen = choose_buddy(row.user_id, frozenset(picks.get(row.user_id, set())), candidates)
        if chosen is None:
            return False
        row.buddy_id = chosen.user_id
        await self.ctx.timers.schedule(
            "buddy_check",
            at=self.now + self.s.buddy_check_after,
            key=f"buddy:{row.user_id}",
            payload={"user": row.user_id},
        )
        return True

    async def welcome(self, row: OnboardingMember, *, back: bool, new_buddy: bool) -> None:
        """Post and send the welcome; introduce the buddy."""
        s = self.s
        user = self.user(row.user_id)
        if back:
            text = f"Welcome back, {mention(user)}! Your progress is just as you left it."
        else:
            count = await self.ctx.port.count_members(self.ctx.community)
            text = await self.welcome_for(row, count)
        private = await self.private_onboarding(row, text, in_dm=True)
        # Everything is read: end the transaction before talking to the platform, so a join
        # storm's writers never wait on another member's welcome being delivered.
        await self.ctx.commit()
        if s.newcomer_role is not None and row.rules_at is None:
            await self.grant_role(row.user_id, s.newcomer_role, "new member")
        if Capability.CHANNEL_INVITE in self.ctx.port.capabilities:
            # Slack newcomers start in #general only: bring them where onboarding happens.
            for channel in {c for c in (s.welcome_channel, s.intro_channel) if c is not None}:
                await self.invite(row.user_id, channel, "onboarding")
        posted = False
        if s.welcome_where in ("both", "channel") and s.welcome_channel is not None:
            public = Message(
                text=text,
                buttons=(Button("start", "Get started", style="primary"),),
                ping_users=frozenset({user}),
            )
            await self.ctx.port.send(s.welcome_channel, public)
            posted = True
        wants_dm = s.welcome_where in ("both", "dm") or not posted
        if wants_dm and await self.ctx.port.dm(user, private) is None:
            row.dm_open = False
            if not posted:  # the public welcome, when there is one, already reached them
                await self.reach(row, private, "their welcome")
        if new_buddy and row.buddy_id:
            await self.introduce_buddy(row)

    async def introduce_buddy(self, row: OnboardingMember) -> None:
        """Both get a DM introducing the other."""
        assert row.buddy_id is not None
        newcomer, buddy = self.user(row.user_id), self.user(row.buddy_id)
        talked = (Button("talked", "We've talked", value=row.user_id),) if self.dm_buttons() else ()
        await self.ctx.port.dm(
            newcomer,
            Message(
                text=f"Meet {mention(buddy)}, your buddy here: ask them anything, "
                "they'll show you around.",
                buttons=talked,
            ),
        )
        await self.ctx.port.dm(
            buddy,
            Message(
                text=f"You're now {mention(newcomer)}'s buddy. Say hello this week and help "
                "them find their way around!",
                buttons=talked,
            ),
        )

    async def leave(self, user_id: str) -> None:
        """A member left: keep their progress for a while, stop their nudges."""
        row = await self.repo.member(user_id)
        if row is not None and row.left_at is None:
            row.left_at = self.now
            for step in Step:
                await self.step_done(row, step)
        entry = await self.repo.buddy(user_id)
        if entry is not None:
            await self.ctx.uow.session.delete(entry)

    # -- steps --------------------------------------------------------------------------------

    async def agree(self, member: Member) -> bool:
        """The member agreed to the rules; False when they already had."""
        row = await self.ensure_member(member)
        if row.rules_at is not None:
            return False
        row.rules_at = self.now
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
        if chosen and row.interests_at is None:
            row.interests_at = self.now
            await self.step_done(row, Step.INTERESTS)
        new_buddy = (
            row.newcomer and row.buddy_id is None and bool(chosen) and await self.assign_buddy(row)
        )
        await self.ctx.commit()
        if new_buddy:
            await self.introduce_buddy(row)
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
        names = mentioned(event.text)
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
        row.intro_channel_id = message.channel.id
        row.intro_message_id = message.id
        await self.step_done(row, Step.INTRO)
        await self.ctx.timers.schedule(
            "intro_reply",
            at=self.now + timedelta(minutes=max(self.s.intro_reply_minutes, 1)),
            key=f"reply:{row.user_id}",
            payload={"user": row.user_id},
        )

    # -- timers -------------------------------------------------------------------------------

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
        """A nudge came due: send it once, unless the step is done or it is quiet time."""
        row = await self.repo.member(user_id)
        if row is None:
            return
        quiet = await self.quiet()
        decision = decide(step, self.progress(row), await self.ladder(), self.now, quiet)
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
        row.nudged = {**row.nudged, step.value: self.now.isoformat()}
        new_buddy = step is Step.INTERESTS and row.buddy_id is None and await self.assign_buddy(row)
        await self.ctx.commit()
        if new_buddy:
            await self.introduce_buddy(row)
        user = self.user(user_id)
        if step is Step.SILENT:
            days = (self.now - (row.returned_at or row.joined_at)).days
            text = (
                f"{mention(user)} joined {days} days ago and hasn't said anything yet. "
                "A friendly hello might help!"
            )
            if self.s.greeters_channel is not None:
                await self.ctx.port.send(self.s.greeters_channel, self.greeters_message(text))
            return
        text = nudge_text(step, self.intro_mention())
        message = await self.private_onboarding(row, text, in_dm=True)
        if step is Step.INTRO:
            message = Message(text=text)
        await self.reach(row, message, f"a reminder about {step.value}")
        await self.ctx.commit()

    async def buddy_check(self, user_id: str) -> None:
        """The buddy week is over: record whether they talked."""
        row = await self.repo.member(user_id)
        if row is not None and row.buddy_talked_at is None:
            row.buddy_missed = True
