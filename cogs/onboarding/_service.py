"""Onboarding as one handler call sees it: the shared helpers every journey (arrivals, steps,
reminders) builds on. Write, commit, act, then record what happened."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import inspect

from bot.core import (
    Button,
    Capability,
    ChannelRef,
    Context,
    Member,
    Message,
    RoleRef,
    UserRef,
    mention,
)
from bot.core.settings import SettingsStore
from bot.core.staff import staff_message
from cogs.onboarding._buddies import Candidate, choose_buddy
from cogs.onboarding._ladder import MEMBER_STEPS, Ladder, Progress, Quiet, Step, plan
from cogs.onboarding._models import (
    OnboardingBuddy,
    OnboardingConfig,
    OnboardingInterest,
    OnboardingMember,
)
from cogs.onboarding._repo import Repo
from cogs.onboarding._texts import (
    onboarding_message,
    welcome_template,
    welcome_text,
)
from cogs.onboarding.events import OnboardingFinished, StepCompleted, StepName
from cogs.onboarding.settings import OnboardingSettings

DAY7 = 7
SETUP = "onboarding.setup"
"""The name the community's onboarding setup (config, interests, buddy pool) is cached under,
beside the settings, and dropped by :meth:`Flow.setup_changed` the way a settings write is."""
R = TypeVar("R", OnboardingConfig, OnboardingInterest, OnboardingBuddy)


@dataclass(frozen=True)
class Setup:
    """A community's onboarding setup as a join reads it: copies of the rows, in no session
    (shared by the joins of the next few seconds; never written through)."""

    config: OnboardingConfig | None
    interests: list[OnboardingInterest]
    pool: list[OnboardingBuddy]


def _copy(row: R) -> R:
    """A copy of a row that belongs to no session."""
    copy = type(row)()
    for attr in inspect(type(row)).column_attrs:
        setattr(copy, attr.key, getattr(row, attr.key))
    return copy


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
        self._hold = False
        self._setup: Setup | None = None

    def hold_setup(self) -> None:
        """From now on in this call, read the community's onboarding setup (config, interests,
        buddy pool) as cached for the community (``SETUP``, a few seconds at most; dropped at
        once by a change): a join needs them for its nudges, its buddy, its welcome and its
        onboarding message, and read them inside the write lock, three reads a join in a storm.
        Only for calls that never change them (they get copies)."""
        self._hold = True

    async def _held(self) -> Setup:
        if self._setup is None:
            store = SettingsStore.of(self.ctx.uow)
            key = (self.ctx.community.key, SETUP)
            cached = store.cache.get(key, Setup) if store.cache is not None else None
            if cached is None:
                token = store.cache.token(key) if store.cache is not None else None
                config = await self.repo.peek_config()
                cached = Setup(
                    _copy(config) if config is not None else None,
                    [_copy(i) for i in await self.repo.interests()],
                    [_copy(b) for b in await self.repo.pool()],
                )
                if store.cache is not None:
                    store.cache.put(key, cached, token)
            self._setup = cached
        return self._setup

    async def setup_changed(self) -> None:
        """The config, an interest or the buddy pool is being changed in this call: the cached
        setup goes (here, and in every process once this commits)."""
        await SettingsStore.of(self.ctx.uow).changed(self.ctx.community, SETUP)

    async def config(self) -> OnboardingConfig | None:
        """The config row if there is one."""
        return (await self._held()).config if self._hold else await self.repo.peek_config()

    async def interests(self) -> list[OnboardingInterest]:
        """Every interest, by name."""
        return (await self._held()).interests if self._hold else await self.repo.interests()

    async def pool(self) -> list[OnboardingBuddy]:
        """The buddy pool."""
        return (await self._held()).pool if self._hold else await self.repo.pool()

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
        config = await self.config()
        if config is None or not config.rules_text:
            applies.discard(Step.RULES)
        if not await self.interests():
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

    async def completed(self, row: OnboardingMember, step: StepName) -> None:
        """Tell other features a member completed a step, and onboarding when it was the last
        of the steps this community uses (delivered once this commits)."""
        user = self.user(row.user_id)
        community, now = self.ctx.community, self.now
        self.ctx.publish(
            StepCompleted(community=community, at=now, user=user, step=step, newcomer=row.newcomer)
        )
        used = [s for s in MEMBER_STEPS if s in (await self.ladder()).applies]
        if Step(step) in used and all(self.progress(row).done(s) for s in used):
            self.ctx.publish(
                OnboardingFinished(community=community, at=now, user=user, newcomer=row.newcomer)
            )

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
        """Tell the greeters (else the community's staff) about a setup problem, once."""
        await self.ctx.alert_staff(text, key=key, channel=self.s.greeters_channel)
        await self.ctx.commit()

    async def attempt(self, key: str, what: str, call: Awaitable[Any]) -> bool:
        """Do one platform action; when refused, the staff hear once and the flow goes on."""
        return await self.ctx.attempt(
            what,
            call,
            key=key,
            meanwhile="Members keep going through onboarding meanwhile.",
            channel=self.s.greeters_channel,
        )

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
        where = await self.ctx.reach(
            self.user(row.user_id),
            message,
            about=about,
            dm=row.dm_open,
            public=self.s.welcome_channel,
            public_buttons=(Button("start", "Show me my onboarding", style="primary"),),
            staff=self.s.greeters_channel,
            staff_role=self.s.greeter_role,
        )
        row.dm_open = where == "dm"
        return "greeters" if where == "staff" else where

    def greeters_message(self, text: str, ping: frozenset[UserRef] = frozenset()) -> Message:
        """A message for the greeters, pinging their role."""
        return staff_message(text, self.s.greeter_role, ping)

    # -- the newcomer's own onboarding message ------------------------------------------------

    async def private_onboarding(self, row: OnboardingMember, text: str, *, in_dm: bool) -> Message:
        """Rules, interests and the intro invitation for this member, as things stand."""
        config = await self.config()
        welcome = self.s.welcome_channel
        return onboarding_message(
            text,
            rules=config.rules_text if config else None,
            agreed=row.rules_at is not None,
            interests=await self.interests(),
            intro_channel=self.intro_mention(),
            interactive=not in_dm or self.dm_buttons(),
            start_here=mention(welcome) if welcome and self.s.welcome_where != "dm" else None,
        )

    def dm_buttons(self) -> bool:
        """Whether buttons in DMs come back to Steward on this platform."""
        return Capability.DM_COMPONENTS in self.ctx.port.capabilities

    async def welcome_for(self, row: OnboardingMember, count: int | None) -> str:
        """The manager's welcome template filled in for this member."""
        values = await self.welcome_values(row, count)
        return welcome_text(
            welcome_template(values["template"]),
            member=mention(self.user(row.user_id)),
            community=self.s.community_name,
            member_count=count,
            rules=values["rules"],
            intro_channel=self.intro_mention(),
            buddy=mention(self.user(row.buddy_id)) if row.buddy_id else None,
        )

    async def welcome_values(self, row: OnboardingMember, count: int | None) -> dict[str, Any]:
        """What the welcome template is filled in with for this member, as plain values (a
        burst's shared welcome is written from them: ``welcome_together``)."""
        config = await self.config()
        return {
            "template": config.welcome_template if config else None,
            "community": self.s.community_name,
            "member_count": count,
            "rules": config.rules_text if config else None,
            "intro_channel": self.intro_mention(),
            "member": row.user_id,
            "buddy": row.buddy_id,
        }

    async def assign_buddy(self, row: OnboardingMember) -> bool:
        """Pick a buddy from the pool; True when one was found."""
        pool = await self.pool()
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

    async def introduce_buddy(self, row: OnboardingMember) -> None:
        """Both get a DM introducing the other, queued in this transaction (through the outbox:
        once each, after what was queued for them before, such as the newcomer's welcome)."""
        assert row.buddy_id is not None
        newcomer, buddy = self.user(row.user_id), self.user(row.buddy_id)
        talked = (Button("talked", "We've talked", value=row.user_id),) if self.dm_buttons() else ()
        since = (row.returned_at or row.joined_at).timestamp()
        key = f"buddy:{row.user_id}:{row.buddy_id}:{since:.0f}"
        await self.ctx.deliver(
            newcomer,
            Message(
                text=f"Meet {mention(buddy)}, your buddy here: ask them anything, "
                "they'll show you around.",
                buttons=talked,
            ),
            key=f"{key}:newcomer",
        )
        await self.ctx.deliver(
            buddy,
            Message(
                text=f"You're now {mention(newcomer)}'s buddy. Say hello this week and help "
                "them find their way around!",
                buttons=talked,
            ),
            key=f"{key}:buddy",
        )
