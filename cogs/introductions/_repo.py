"""Reading and writing introductions' tables inside the handler's unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import CommunityRef
from bot.db.inserts import insert_ignore
from cogs.introductions._models import (
    IntroAvoid,
    IntroConfig,
    IntroGroup,
    IntroMember,
    IntroRound,
    IntroSeat,
    IntroTalk,
    IntroThanks,
    IntroThreadPoster,
)

MODS = "mods"
"""``IntroAvoid.set_by`` for the moderators' do-not-pair list."""


class Repo:
    """Introductions' data for one community."""

    def __init__(self, session: AsyncSession, community: CommunityRef) -> None:
        self.session = session
        self.key = community.key

    async def config(self, now: datetime) -> IntroConfig:
        """The community's config row, created on first use."""
        row = await self.session.get(IntroConfig, self.key)
        if row is None:
            row = IntroConfig(community_id=self.key, running=False, starters="", updated_at=now)
            self.session.add(row)
            await self.session.flush()
        return row

    async def peek_config(self) -> IntroConfig | None:
        """The config row if there is one."""
        return await self.session.get(IntroConfig, self.key)

    async def member(self, user_id: str) -> IntroMember | None:
        """What the feature knows of one member."""
        return await self.session.get(IntroMember, (self.key, user_id))

    async def ensure_member(self, user_id: str, now: datetime) -> IntroMember:
        """A member's row, created (out of the pool) on first use."""
        row = await self.member(user_id)
        if row is None:
            row = IntroMember(
                community_id=self.key, user_id=user_id, opted_in=False, ignored=0, updated_at=now
            )
            self.session.add(row)
            await self.session.flush()
        return row

    async def opted_in(self) -> list[IntroMember]:
        """Everyone in the pool (paused or not), by id."""
        rows = await self.session.scalars(
            select(IntroMember)
            .where(IntroMember.community_id == self.key, IntroMember.opted_in.is_(True))
            .order_by(IntroMember.user_id)
        )
        return list(rows)

    async def members_among(self, user_ids: Iterable[str]) -> dict[str, IntroMember]:
        """The rows of these members."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(IntroMember).where(
                IntroMember.community_id == self.key, IntroMember.user_id.in_(ids)
            )
        )
        return {r.user_id: r for r in rows}

    # -- rounds ------------------------------------------------------------------------------

    async def latest_round(self) -> IntroRound | None:
        """The most recent round."""
        result: IntroRound | None = await self.session.scalar(
            select(IntroRound)
            .where(IntroRound.community_id == self.key)
            .order_by(IntroRound.number.desc())
            .limit(1)
        )
        return result

    async def rounds_since(self, since: datetime) -> list[IntroRound]:
        """Rounds started at or after ``since``, oldest first."""
        rows = await self.session.scalars(
            select(IntroRound)
            .where(IntroRound.community_id == self.key, IntroRound.started_at >= since)
            .order_by(IntroRound.number)
        )
        return list(rows)

    async def round_numbers(self, round_ids: Iterable[int]) -> dict[int, int]:
        """Round id -> round number."""
        rows = await self.session.execute(
            select(IntroRound.id, IntroRound.number).where(
                IntroRound.community_id == self.key, IntroRound.id.in_(sorted(set(round_ids)))
            )
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def groups_of(self, round_id: int) -> list[IntroGroup]:
        """A round's groups, in the order they were formed."""
        rows = await self.session.scalars(
            select(IntroGroup).where(IntroGroup.round_id == round_id).order_by(IntroGroup.id)
        )
        return list(rows)

    async def seats_of_rounds(self, round_ids: Iterable[int]) -> list[IntroSeat]:
        """Every seat in these rounds."""
        ids = sorted(set(round_ids))
        if not ids:
            return []
        rows = await self.session.scalars(
            select(IntroSeat)
            .where(IntroSeat.community_id == self.key, IntroSeat.round_id.in_(ids))
            .order_by(IntroSeat.group_id, IntroSeat.user_id)
        )
        return list(rows)

    async def seat(self, group_id: int, user_id: str) -> IntroSeat | None:
        """One member's seat in a group."""
        result: IntroSeat | None = await self.session.scalar(
            select(IntroSeat).where(
                IntroSeat.community_id == self.key,
                IntroSeat.group_id == group_id,
                IntroSeat.user_id == user_id,
            )
        )
        return result

    async def recent_groups(self, rounds: int, before: int) -> list[IntroSeat]:
        """Seats of the ``rounds`` rounds before round number ``before``."""
        if rounds <= 0:
            return []
        ids = await self.session.scalars(
            select(IntroRound.id).where(
                IntroRound.community_id == self.key,
                IntroRound.number < before,
                IntroRound.number >= before - rounds,
            )
        )
        return await self.seats_of_rounds(ids)

    # -- do-not-pair lists -------------------------------------------------------------------

    async def avoid(self, set_by: str, a: str, b: str, now: datetime) -> bool:
        """Never put ``a`` and ``b`` together; False when that was already so."""
        low, high = sorted((a, b))
        values = {
            "community_id": self.key,
            "set_by": set_by,
            "user_id": low,
            "other_id": high,
            "created_at": now,
        }
        return await insert_ignore(self.session, IntroAvoid, values)

    async def unavoid(self, set_by: str, a: str, b: str) -> bool:
        """Forget one do-not-pair entry; False when there was none."""
        low, high = sorted((a, b))
        result = await self.session.execute(
            delete(IntroAvoid).where(
                IntroAvoid.community_id == self.key,
                IntroAvoid.set_by == set_by,
                IntroAvoid.user_id == low,
                IntroAvoid.other_id == high,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def blocked(self) -> set[frozenset[str]]:
        """Every pair on anyone's do-not-pair list."""
        rows = await self.session.execute(
            select(IntroAvoid.user_id, IntroAvoid.other_id).where(
                IntroAvoid.community_id == self.key
            )
        )
        return {frozenset((a, b)) for a, b in rows}

    async def avoided_by(self, set_by: str) -> list[tuple[str, str]]:
        """One list's pairs."""
        rows = await self.session.execute(
            select(IntroAvoid.user_id, IntroAvoid.other_id)
            .where(IntroAvoid.community_id == self.key, IntroAvoid.set_by == set_by)
            .order_by(IntroAvoid.user_id, IntroAvoid.other_id)
        )
        return [(a, b) for a, b in rows]

    # -- who talked --------------------------------------------------------------------------

    async def talked(self, pairs: Iterable[frozenset[str]], now: datetime) -> None:
        """Record that these pairs talked now."""
        for pair in pairs:
            low, high = sorted(pair)
            row = await self.session.get(IntroTalk, (self.key, low, high))
            if row is None:
                values = {
                    "community_id": self.key,
                    "low_id": low,
                    "high_id": high,
                    "first_at": now,
                    "last_at": now,
                }
                await insert_ignore(self.session, IntroTalk, values)
            else:
                row.last_at = now

    async def talks(self) -> list[IntroTalk]:
        """Every pair that talked."""
        rows = await self.session.scalars(
            select(IntroTalk).where(IntroTalk.community_id == self.key)
        )
        return list(rows)

    async def thread_posters(self, thread: str, author: str) -> frozenset[str]:
        """Who posted in a thread before; the author is noted as a poster there too."""
        rows = await self.session.scalars(
            select(IntroThreadPoster.user_id).where(
                IntroThreadPoster.community_id == self.key, IntroThreadPoster.thread == thread
            )
        )
        posters = frozenset(rows)
        if author not in posters:
            values = {"community_id": self.key, "thread": thread[:140], "user_id": author}
            await insert_ignore(self.session, IntroThreadPoster, values)
        return posters

    async def is_group_conversation(self, conversation_id: str) -> bool:
        """Whether a conversation is one introductions opened for a group."""
        found = await self.session.scalar(
            select(IntroGroup.id)
            .where(
                IntroGroup.community_id == self.key,
                IntroGroup.conversation_id == conversation_id,
            )
            .limit(1)
        )
        return found is not None

    async def forget(self, user_id: str) -> None:
        """Delete what introductions keep about a member (seats in past rounds go too)."""
        key = self.key
        for model, column in (
            (IntroMember, IntroMember.user_id),
            (IntroSeat, IntroSeat.user_id),
            (IntroThreadPoster, IntroThreadPoster.user_id),
        ):
            await self.session.execute(
                delete(model).where(model.community_id == key, column == user_id)
            )
        await self.session.execute(
            delete(IntroAvoid).where(
                IntroAvoid.community_id == key,
                or_(
                    IntroAvoid.set_by == user_id,
                    IntroAvoid.user_id == user_id,
                    IntroAvoid.other_id == user_id,
                ),
            )
        )
        await self.session.execute(
            delete(IntroThanks).where(
                IntroThanks.community_id == key,
                or_(IntroThanks.from_id == user_id, IntroThanks.to_id == user_id),
            )
        )
        await self.session.execute(
            delete(IntroTalk).where(
                IntroTalk.community_id == key,
                or_(IntroTalk.low_id == user_id, IntroTalk.high_id == user_id),
            )
        )
