"""Introductions as one handler call sees it: the pool, rounds, introductions and check-ins.

Write, commit, act: a round's groups and its timers are stored before any conversation is opened,
and each introduction goes through the outbox. A group whose conversation could not be opened is
tried again at the round's check-ins.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import datetime, timedelta

from bot.core import Button, ChannelRef, Context, Message, UserError, UserRef, mention, plural
from bot.core.errors import Unavailable
from bot.core.parsing import digits_value
from cogs.introductions._matching import make_groups
from cogs.introductions._models import FOREVER, IntroGroup, IntroMember, IntroRound, IntroSeat
from cogs.introductions._pool import Pool
from cogs.introductions._repo import Repo
from cogs.introductions._rounds import (
    GHOST_ROUNDS,
    Answer,
    Schedule,
    check_ins,
    in_pool,
    next_round,
    parse_cadence,
)
from cogs.introductions._starters import Vocabulary, starters
from cogs.introductions._talk import talk_graph
from cogs.introductions._texts import (
    Introduced,
    check_in_text,
    ghost_notice,
    introduction,
    pick_starter,
)
from cogs.introductions._weights import Affinity, Person
from cogs.introductions.events import RoundClosed, RoundStarted
from cogs.introductions.settings import IntroductionsSettings

NO_THREAD_CHANNEL = (
    "on Discord each group talks in a private thread, and no channel is set for them. "
    "Set one with `/steward settings set introductions thread_channel #channel`"
)
ROUND_KEY = "round"
"""The timer key of a community's next round (one at a time)."""


def when(at: datetime, schedule: Schedule) -> str:
    """A moment as the community reads it: ``Monday 05 January at 11:00 (Europe/Paris)``."""
    return f"{at.astimezone(schedule.tz):%A %d %B at %H:%M} ({schedule.tz.key})"


class Rounds:
    """Introductions for one handler call: the context, its settings and its tables."""

    def __init__(self, ctx: Context[IntroductionsSettings]) -> None:
        self.ctx = ctx
        self.s = ctx.settings
        self.repo = Repo(ctx.uow.session, ctx.community)
        self.now = ctx.clock.now()
        self.pool = Pool(ctx, self.repo, self.now)

    def user(self, user_id: str) -> UserRef:
        """A user of this community."""
        return UserRef(self.ctx.community, user_id)

    async def schedule(self) -> Schedule:
        """The round schedule in the community's time zone, outside its quiet hours."""
        shared = await self.ctx.community_settings()
        return Schedule(
            tz=shared.tz(),
            cadence=parse_cadence(self.s.cadence),
            at=self.s.round_time,
            quiet_start=shared.quiet_start,
            quiet_end=shared.quiet_end,
        )

    async def arm(self, *, now: bool = False) -> str:
        """Put the next round on the durable timer (``now``: at once); says when, locally."""
        schedule = await self.schedule()
        at = self.now if now else next_round(self.now, schedule)
        await self.ctx.timers.schedule("round", at=at, key=ROUND_KEY)
        return when(at, schedule)

    async def rearm(self) -> None:
        """On (re)connecting: a running community always has its next round on a timer."""
        config = await self.repo.peek_config()
        if (
            config is not None
            and config.running
            and await self.ctx.timers.due_at(ROUND_KEY) is None
        ):
            await self.arm()

    # -- a round -----------------------------------------------------------------------------

    async def run_round(self) -> None:
        """Close the last round, form this one's groups, store them, then introduce each."""
        last = await self.repo.latest_round()
        if last is not None and not last.closed:
            await self.close(last)
        number = (last.number if last is not None else 0) + 1
        schedule = await self.schedule()
        ends = next_round(self.now + timedelta(minutes=1), schedule)
        config = await self.repo.peek_config()
        if config is not None and config.running:
            await self.ctx.timers.schedule("round", at=ends, key=ROUND_KEY)
        everyone = await self.pool.members()
        pool = [m for m in everyone if in_pool(True, m.paused_until, number)]
        if len(pool) < 2:
            await self.ctx.commit()
            return
        round_ = IntroRound(
            community_id=self.ctx.community.key,
            number=number,
            started_at=self.now,
            ends_at=ends,
            closed=False,
        )
        self.ctx.uow.session.add(round_)
        await self.ctx.uow.session.flush()
        groups = await self._form(pool, number, round_.id)
        stored = []
        for members in groups:
            group = IntroGroup(community_id=self.ctx.community.key, round_id=round_.id)
            self.ctx.uow.session.add(group)
            await self.ctx.uow.session.flush()
            for user_id in members:
                self.ctx.uow.session.add(
                    IntroSeat(
                        group_id=group.id,
                        user_id=user_id,
                        community_id=self.ctx.community.key,
                        round_id=round_.id,
                    )
                )
            stored.append((group, members))
        for which, at in enumerate(check_ins(self.now, ends, schedule), start=1):
            await self.ctx.timers.schedule(
                "check_in",
                at=at,
                key=f"check_in:{round_.id}:{which}",
                payload={"round": round_.id, "final": which == 2},
            )
        self.ctx.publish(
            RoundStarted(
                community=self.ctx.community,
                at=self.now,
                number=number,
                people=sum(len(m) for m in groups),
                groups=len(groups),
            )
        )
        await self.ctx.commit()
        for group, members in stored:
            await self.introduce(group, members)

    async def _form(self, pool: list[IntroMember], number: int, seed: int) -> list[tuple[str, ...]]:
        """This round's groups from the pool, the history, the do-not-pair lists and the talks."""
        since = self.now - timedelta(days=self.s.newcomer_days)
        vocabulary = Vocabulary(n for m in pool for n in m.interest_names())
        people = [
            Person(
                m.user_id,
                interests=vocabulary.ids(m.interest_names()),
                newcomer=m.arrived_at is not None and m.arrived_at >= since,
            )
            for m in pool
        ]
        history: set[frozenset[str]] = set()
        by_group: dict[int, list[str]] = defaultdict(list)
        for seat in await self.repo.recent_groups(self.s.history_rounds, number):
            by_group[seat.group_id].append(seat.user_id)
        for members in by_group.values():
            history.update(frozenset(p) for p in itertools.combinations(members, 2))
        talked = talk_graph((t.low_id, t.high_id) for t in await self.repo.talks())
        affinity = Affinity(mode=self.s.mode, group_size=self.s.group_size, talked=talked)
        rng = random.Random(f"{self.ctx.community.key}:{seed}")
        return make_groups(people, history, await self.repo.blocked(), affinity, rng)

    async def introduce(self, group: IntroGroup, members: tuple[str, ...] | list[str]) -> None:
        """Open the group's conversation (once) and post the introduction in it (once)."""
        if group.conversation_id is None:
            users = [self.user(u) for u in members]
            try:
                if self.ctx.port.platform == "discord" and self.s.thread_channel is None:
                    raise UserError(NO_THREAD_CHANNEL)
                where = await self.ctx.port.open_group(
                    users, name="Introductions: say hello!", parent=self.s.thread_channel
                )
            except Unavailable as exc:  # the platform may answer later: the check-in retries
                self.ctx.log.warning("could not open a group's conversation yet: %s", exc)
                return
            except UserError as exc:
                group.problem = str(exc)[:300]
                await self.ctx.alert_staff(
                    f"Introductions couldn't open a conversation for a group: {exc}\n"
                    "I'll try again at the round's check-in.",
                    key=f"introductions:open:{type(exc).__name__}",
                )
                await self.ctx.commit()
                return
            group.conversation_id, group.problem = where.id, None
        rows = await self.repo.members_among(members)
        vocabulary = Vocabulary(n for r in rows.values() for n in r.interest_names())
        shown = [
            Introduced(
                mention(self.user(u)),
                vocabulary.ids(rows[u].interest_names() if u in rows else ()),
            )
            for u in members
        ]
        shared = frozenset.intersection(*(m.interests for m in shown))
        config = await self.repo.peek_config()
        general, themed = starters(config.starters if config else "", vocabulary)
        starter = pick_starter(shared, general, themed, random.Random(group.id))
        text = introduction(shown, vocabulary.labels(), starter)
        message = Message(text=text, ping_users=frozenset(self.user(u) for u in members))
        await self.ctx.deliver(self._conversation(group), message, key=f"intro:{group.id}")
        await self.ctx.commit()

    def _conversation(self, group: IntroGroup) -> ChannelRef:
        assert group.conversation_id is not None
        return ChannelRef(self.ctx.community, group.conversation_id)

    async def check_in(self, round_id: int, final: bool) -> None:
        """Ask each group that has not all answered whether they met (retrying any intro first)."""
        round_ = await self.ctx.uow.session.get(IntroRound, round_id)
        if round_ is None or round_.closed:
            return
        seats = await self.repo.seats_of_rounds([round_id])
        members: dict[int, list[IntroSeat]] = defaultdict(list)
        for seat in seats:
            members[seat.group_id].append(seat)
        for group in await self.repo.groups_of(round_id):
            mine = members.get(group.id, [])
            if not mine:
                continue
            if group.conversation_id is None:
                await self.introduce(group, [s.user_id for s in mine])
                if group.conversation_id is None:
                    continue
            if all(s.answer is not None for s in mine):
                continue
            buttons = (
                Button("met", "We met", value=str(group.id), style="primary"),
                Button("not_yet", "Not yet", value=str(group.id)),
                Button("skip", "Skip this round", value=str(group.id)),
            )
            message = Message(text=check_in_text(final), buttons=buttons)
            key = f"check_in:{group.id}:{'final' if final else 'midway'}"
            await self.ctx.deliver(self._conversation(group), message, key=key)
        await self.ctx.commit()

    async def close(self, round_: IntroRound) -> None:
        """End a round: silent members ignored it; three ignored rounds in a row pause them."""
        round_.closed = True
        # A round cut short (a manager ran the next one before its midway check-in) leaves
        # everyone's streak as it was: nobody had the chance to answer.
        early = self.now < round_.started_at + (round_.ends_at - round_.started_at) / 2
        seats = await self.repo.seats_of_rounds([round_.id])
        rows = await self.repo.members_among(s.user_id for s in seats)
        for seat in seats:
            if seat.answer is None:
                seat.answer = Answer.IGNORED.value
            row = rows.get(seat.user_id)
            if row is None or early:
                continue
            row.ignored = row.ignored + 1 if seat.answer == Answer.IGNORED.value else 0
            # In the pool: joined, or (a pool channel's member) never left it themselves.
            in_it = row.opted_in or (self.s.pool_channel is not None and not row.opted_out)
            if in_it and row.paused_until is None and row.ignored >= GHOST_ROUNDS:
                row.paused_until = FOREVER
                row.updated_at = self.now
                key = f"ghost:{row.user_id}:{round_.number}"
                await self.ctx.deliver(
                    self.user(row.user_id), Message(text=ghost_notice()), key=key
                )
        groups: dict[int, list[IntroSeat]] = defaultdict(list)
        for seat in seats:
            groups[seat.group_id].append(seat)
        self.ctx.publish(
            RoundClosed(
                community=self.ctx.community,
                at=self.now,
                number=round_.number,
                people=len(seats),
                groups=len(groups),
                met=sum(any(s.answer == Answer.MET.value for s in g) for g in groups.values()),
            )
        )
        await self.ctx.uow.session.flush()

    async def answer(self, group_id: str, actor: str, answer: Answer) -> None:
        """A member pressed a check-in button."""
        number = digits_value(group_id)
        seat = await self.repo.seat(number, actor) if number is not None else None
        if seat is None:
            raise UserError("That check-in is for the members of that group.")
        round_ = await self.ctx.uow.session.get(IntroRound, seat.round_id)
        if round_ is None or round_.closed:
            raise UserError("That round is over; the next check-in will be for your next group.")
        seat.answer = answer.value

    # -- the pool ----------------------------------------------------------------------------

    async def join(self, user_id: str) -> bool:
        """Into the pool (or back from a pause); False when they were in and not paused."""
        row = await self.repo.ensure_member(user_id, self.now)
        was = row.paused_until is None and await self.pool.counts_as_in(row, user_id)
        row.opted_in, row.paused_until, row.ignored, row.updated_at = True, None, 0, self.now
        row.opted_out = False
        return not was

    async def leave(self, user_id: str, *, by_choice: bool = True) -> bool:
        """Out of the pool (by their choice: a pool channel no longer counts them either);
        False when they were not in it."""
        row = await self.repo.member(user_id)
        if by_choice:
            was = await self.pool.counts_as_in(row, user_id)
        else:
            was = row is not None and row.opted_in
        if not was:
            return False
        row = row or await self.repo.ensure_member(user_id, self.now)
        row.opted_in, row.paused_until, row.updated_at = False, None, self.now
        row.opted_out = row.opted_out or by_choice
        return True

    async def pause(self, user_id: str, rounds: int | None) -> str:
        """Skip the next ``rounds`` rounds (None: until they come back); the answer in words."""
        row = await self.repo.member(user_id)
        if not await self.pool.counts_as_in(row, user_id):
            raise UserError(
                "You're not in the introductions pool. Join with `/introductions join`."
            )
        row = row or await self.repo.ensure_member(user_id, self.now)
        if rounds is None:
            row.paused_until = FOREVER
            text = "Paused until you come back with `/introductions join`."
        else:
            last = await self.repo.latest_round()
            row.paused_until = (last.number if last else 0) + rounds + 1
            text = f"Paused for the next {plural(rounds, 'round')}."
        row.updated_at = self.now
        return text

    async def status(self, user_id: str) -> str:
        """A member's own place in the pool and their current group, in words."""
        row = await self.repo.member(user_id)
        liked = sorted(row.interest_names()) if row is not None else []
        interests = f" Your interests (from onboarding): {', '.join(liked)}." if liked else ""
        if not await self.pool.counts_as_in(row, user_id):
            out = "You're not in the introductions pool. Join with `/introductions join`."
            return out + interests
        row = row or await self.repo.ensure_member(user_id, self.now)
        last = await self.repo.latest_round()
        if row.paused_until == FOREVER:
            state = "You're in the pool, paused until you come back (`/introductions join`)."
        elif (
            row.paused_until is not None and last is not None and row.paused_until > last.number + 1
        ):
            state = f"You're in the pool, paused until round {row.paused_until}."
        else:
            state = "You're in the pool for the next round."
        if last is not None and not last.closed:
            seats = await self.repo.seats_of_rounds([last.id])
            mine = next((s for s in seats if s.user_id == user_id), None)
            if mine is not None:
                others = [
                    mention(self.user(s.user_id)) for s in seats if s.group_id == mine.group_id
                ]
                others = [o for o in others if o != mention(self.user(user_id))]
                state += f" This round you're meeting {', '.join(others)}."
        return state + interests
