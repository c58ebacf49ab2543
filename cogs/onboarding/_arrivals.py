"""Onboarding's arrivals and departures: welcome once, leave, come back, be forgotten."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bot.core import (
    Capability,
    Member,
    MemberJoined,
    Message,
    Together,
    UserRef,
    mention,
)
from cogs.onboarding._ladder import Step
from cogs.onboarding._models import OnboardingMember
from cogs.onboarding._repo import Repo
from cogs.onboarding._service import Flow
from cogs.onboarding._texts import TOGETHER, public_welcome

CATCH_UP = timedelta(days=1)
"""How far back a restart looks for newcomers recorded but not welcomed."""
ROSTER_KEPT = timedelta(days=7)
"""How old the list of members kept at the last ready may be for those missing from it to
be welcomed as newcomers (Slack): after a longer stop (or onboarding switched off for longer)
they joined too long ago for a welcome, and the list is only taken again."""


@dataclass(frozen=True)
class Greeting:
    """A welcome queued: the private onboarding message, whether a public welcome was posted,
    and the DM's delivery key when one was sent."""

    private: Message
    posted: bool
    dm_key: str | None


def _state(row: OnboardingMember | None, now: datetime, window: timedelta) -> str:
    """Where a joining member stands: ``new`` (no row, or a fresh start is due), ``back``
    (left within the rejoin window), ``welcomed`` (the same join again) or ``unfinished``
    (stored, not yet welcomed: a try that stopped half-way)."""
    if row is None:
        return "new"
    if row.left_at is None and row.newcomer:
        return "welcomed" if row.welcomed_at is not None else "unfinished"
    if row.newcomer and row.left_at and now - row.left_at <= window:
        return "back"
    return "new"


class Arrivals(Flow):
    """Joining, welcoming, leaving and forgetting."""

    async def join(self, member: Member) -> None:
        """Welcome a newcomer (or a member back) exactly once, assign a buddy, plan nudges.

        Look, act, then write once: what onboarding knows of the member is read without the
        write lock; the platform steps (the count for the welcome, the newcomer role, the
        channel invitations) come next, outside any transaction; then one transaction stores
        the member, their buddy, their nudges and their welcome's deliveries. A join storm's
        writers so take SQLite's lock once a join, never while a platform answers. Killed
        before that transaction, nothing is stored and the join is handled again (the inbox,
        a resumed session, or the catch-up on ready): the platform steps change nothing twice.
        """
        if member.is_bot:
            return
        # What admitting the event read into this transaction (the community's settings, when
        # their cache had lapsed) ends here: the platform steps below run outside any.
        await self.ctx.commit()
        self.hold_setup()  # nothing a join does changes the config or the interests
        user_id = member.ref.id
        async with self.ctx.reads() as look:
            seen = await Repo(look.session, self.ctx.community).member(user_id)
            before = _state(seen, self.now, self.s.rejoin_window)
            rules_at = seen.rules_at if seen is not None and before == "back" else None
        if before == "welcomed":
            return  # the same join delivered twice: welcomed once already
        if before == "unfinished":  # a try that stopped half-way, handled again
            row = await self.repo.member(user_id)
            if _state(row, self.now, self.s.rejoin_window) != before:
                await self.ctx.uow.rollback()  # changed since the look: start over
                await self.join(member)
            elif row is not None:
                await self.finish(row)
            return
        count = None if before == "back" else await self.ctx.port.count_members(self.ctx.community)
        await self.arrive(user_id, rules_at)
        row = await self.repo.member(user_id)
        if _state(row, self.now, self.s.rejoin_window) != before:
            # Changed since the look (the catch-up on ready, or another process, took this
            # member meanwhile): start over on what is stored now; the platform steps done
            # already change nothing twice.
            await self.ctx.uow.rollback()
            await self.join(member)
            return
        back = before == "back"
        if row is not None and back:
            row.left_at = None
            row.rejoins += 1
            row.returned_at = self.now
        elif row is not None:  # gone too long, or here before Steward: a fresh start
            await self.ctx.uow.session.delete(row)
            await self.repo.set_picks(user_id, set(), self.now)
            row = None
        if row is None:
            row = self.new_row(member)
            self.ctx.uow.session.add(row)
            try:
                await self.ctx.uow.session.flush()
            except IntegrityError:
                # Their join is stored at this moment elsewhere too (Slack redelivering the
                # join a catch-up on ready found, or another process): start over on it.
                await self.ctx.uow.rollback()
                await self.join(member)
                return
        new_buddy = False
        if row.buddy_id is None and not await self.interests():
            # With interests to pick, the buddy waits for the picks (see ``pick``).
            new_buddy = await self.assign_buddy(row)
        await self.schedule_nudges(row)
        sent = await self.greet(row, back=back, count=count)
        if new_buddy:
            await self.introduce_buddy(row)
        if sent.posted:
            row.welcomed_at = self.now
        await self.ctx.commit()
        await self.welcomed(row, sent)

    async def finish(self, row: OnboardingMember) -> None:
        """Welcome a newcomer whose join stopped half-way (a failed try, or Steward killed
        between storing them and queueing their welcome). The welcome's keys are the first
        try's, so what already went out does not go out twice; the platform steps (role,
        channel invitations) are redone, and doing them again changes nothing."""
        back = row.returned_at is not None
        # Everything is read: end the transaction before talking to the platform, so a join
        # storm's writers never wait on another member's welcome being delivered.
        await self.ctx.commit()
        count = None if back else await self.ctx.port.count_members(self.ctx.community)
        await self.arrive(row.user_id, row.rules_at)
        sent = await self.greet(row, back=back, count=count)
        if row.buddy_id is not None and not back:
            await self.introduce_buddy(row)  # queued before, the keys keep it to once
        if sent.posted:
            row.welcomed_at = self.now
        await self.ctx.commit()
        await self.welcomed(row, sent)

    async def catch_up(
        self,
        at: datetime,
        joined: Sequence[MemberJoined] = (),
        members: Sequence[Member] | None = None,
    ) -> None:
        """Steward is connected again: welcome the newcomers of the last day it stored but
        did not welcome before it stopped (killed between the two), then those the platform
        says joined since Steward was last ready here and it never stored (they joined while
        no Steward ran, or one was killed before storing them: Discord does not send those
        joins again). The first time there is no such mark: nobody is welcomed for it (the
        members of a big guild Steward has just been added to are not newcomers). ``at``: when
        the platform said it was ready (its clock, as the joins' times), the next mark.
        ``members``: everyone in the community, where the platform lists them instead of
        telling the joins (Slack; see :meth:`listed`)."""
        self.hold_setup()
        for row in await self.repo.unwelcomed(self.now - CATCH_UP):
            await self.finish(row)
        config = await self.repo.config(self.now)
        seen = config.seen_at
        missed = [j for j in joined if seen is not None and j.at > seen]
        known = await self.repo.stored([j.member.ref.id for j in missed])
        for j in sorted(missed, key=lambda j: j.at):  # oldest first, as they came
            if j.member.ref.id not in known:
                await self.join(j.member)
        if members is not None:
            await self.listed(members)
        config = await self.repo.config(self.now)
        config.seen_at = at
        await self.ctx.commit()

    async def listed(self, members: Sequence[Member]) -> None:
        """Welcome the listed members who joined while no Steward ran, then keep the list.

        Slack redelivers a join for a few minutes only, and its users carry no join date: a
        listed member missing from the list kept at the last ready (less those who left
        since) and not present in onboarding's records joined meanwhile (or came back, and
        :meth:`join` tells which). They are welcomed in the list's order (the likeliest oldest
        first). A join also delivered (Slack's retry, before or after this) finds them stored,
        or loses the race to store them (:meth:`join`): welcomed once. The first list welcomes
        nobody (Steward just installed, or upgraded from before it kept one), nor a list
        older than ``ROSTER_KEPT``. A member present in onboarding's records and not listed
        left (was deactivated) meanwhile, and is taken as having left now."""
        config = await self.repo.config(self.now)
        kept = config.roster_at
        known = await self.repo.roster()
        listed = {m.ref.id for m in members}
        await self.ctx.commit()  # nothing here is lost if a join below must roll back
        if kept is not None and self.now - kept <= ROSTER_KEPT:
            new = [m for m in members if m.ref.id not in known and not m.is_bot]
            here = await self.repo.stored([m.ref.id for m in new], present=True)
            for member in new:
                if member.ref.id not in here:
                    await self.join(member)
        await self.repo.enrol(sorted(listed - known))
        for gone in sorted(await self.repo.stored(None, present=True) - listed):
            # Present in onboarding's records, not listed: left (deactivated) while no Steward
            # ran. Their nudges stop, their buddy place is freed, and coming back is a return
            # ("welcome back"), not taken for the same join again.
            await self.leave(gone)
        await self.repo.unenrol(sorted(known - listed))
        config = await self.repo.config(self.now)
        config.roster_at = self.now
        await self.ctx.commit()

    async def arrive(self, user_id: str, rules_at: datetime | None) -> None:
        """The platform steps of a welcome: the newcomer role (until they agreed to the
        rules) and, on Slack, the channels where onboarding happens. Both change nothing when
        done twice, so a join handled again redoes them."""
        s = self.s
        if s.newcomer_role is not None and rules_at is None:
            await self.grant_role(user_id, s.newcomer_role, "new member")
        if Capability.CHANNEL_INVITE in self.ctx.port.capabilities:
            # Slack newcomers start in #general only: bring them where onboarding happens.
            for channel in {c for c in (s.welcome_channel, s.intro_channel) if c is not None}:
                await self.invite(user_id, channel, "onboarding")

    async def greet(self, row: OnboardingMember, *, back: bool, count: int | None) -> Greeting:
        """Queue the welcome (public, DM or both) in this transaction: through the outbox,
        each goes out once after it commits, even if Steward stops half-way."""
        s = self.s
        user = self.user(row.user_id)
        shared: Together | None = None
        if back:
            text = f"Welcome back, {mention(user)}! Your progress is just as you left it."
        else:
            text = await self.welcome_for(row, count)
            # In a burst, newcomers whose welcomes wait for the channel are greeted together.
            shared = Together(TOGETHER, await self.welcome_values(row, count))
        private = await self.private_onboarding(row, text, in_dm=True)
        key = f"welcome:{row.user_id}:{(row.returned_at or row.joined_at).timestamp():.0f}"
        posted = False
        if s.welcome_where in ("both", "channel") and s.welcome_channel is not None:
            public = public_welcome(text, [user])
            await self.ctx.deliver(s.welcome_channel, public, key=f"{key}:public", together=shared)
            posted = True
        dm_key = None
        if s.welcome_where in ("both", "dm") or not posted:
            dm_key = f"{key}:dm"
            await self.ctx.deliver(user, private, key=dm_key)
        return Greeting(private, posted, dm_key)

    async def welcomed(self, row: OnboardingMember, sent: Greeting) -> None:
        """After the welcome is queued: a DM refused on the spot means closed DMs (reach them
        another way when nothing public did); a member not marked welcomed with the deliveries
        (no public welcome: the DM alone had to reach them) is marked now."""
        dm = await self.ctx.delivery(sent.dm_key) if sent.dm_key else None
        if dm is not None and dm.status == "failed":
            row.dm_open = False
            if not sent.posted:  # the public welcome, when there is one, already reached them
                await self.reach(row, sent.private, "their welcome")
        if row.welcomed_at is None:
            row.welcomed_at = self.now
        await self.ctx.commit()  # nothing to write unless a step above found something

    async def leave(self, user_id: str) -> None:
        """A member left: keep their progress for a while, stop their nudges."""
        row = await self.repo.member(user_id)
        if row is not None and row.left_at is None:
            row.left_at = self.now
            for step in Step:
                await self.step_done(row, step)
        entry = await self.repo.buddy(user_id)
        if entry is not None:
            await self.setup_changed()
            await self.ctx.uow.session.delete(entry)
        # Off the kept list: listed again at a ready (back while no Steward ran), they return.
        await self.repo.unenrol([user_id])

    async def forget(self, user_id: str) -> None:
        """Delete what onboarding stores about a member; newcomers they looked after keep going
        without a buddy."""
        await self.leave(user_id)
        config = await self.repo.config(self.now)
        if config.seen_at is not None:
            # Steward is connected and has seen every join since its mark: moving the mark to
            # this member's join keeps the next start's catch-up from finding them unrecorded
            # (as asked) and welcoming, and recording, them again.
            member = None
            with contextlib.suppress(Exception):  # not found, or the platform busy: no mark
                member = await self.ctx.port.fetch_member(UserRef(self.ctx.community, user_id))
            joined = member.joined_at if member is not None else None
            if joined is not None and joined >= config.seen_at:
                config.seen_at = joined
        if config.roster_at is not None:
            # Still in the workspace, now without a record: kept on the list, so the next
            # ready does not take them for a newcomer (as the mark above does on Discord).
            await self.repo.enrol([user_id])
        row = await self.repo.member(user_id)
        if row is not None:
            for key in (f"buddy:{user_id}", f"reply:{user_id}"):
                await self.ctx.timers.cancel(key)
            await self.ctx.uow.session.delete(row)
        await self.repo.set_picks(user_id, set(), self.now)
        for newcomer in await self.repo.buddied_by(user_id):
            newcomer.buddy_id = None
