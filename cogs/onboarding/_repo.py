"""Reading and writing onboarding's tables inside the handler's unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import CommunityRef
from bot.db.inserts import insert_ignore
from cogs.onboarding._models import (
    OnboardingBuddy,
    OnboardingConfig,
    OnboardingInterest,
    OnboardingMember,
    OnboardingPick,
    OnboardingRosterEntry,
)

CHUNK = 500
"""Ids written or deleted in one statement (SQLite takes at most 999 parameters in some
builds; a 5,000-member first list is ten statements)."""


_MEMBER = select(OnboardingMember).where(
    OnboardingMember.community_id == bindparam("member_community"),
    OnboardingMember.user_id == bindparam("member_user"),
)
"""One member's row, built once: a join reads it twice (building the query each time cost
about what running it does)."""
_MEMBER_LOCKED = _MEMBER.with_for_update()


class Repo:
    """Onboarding's data for one community."""

    def __init__(self, session: AsyncSession, community: CommunityRef) -> None:
        self.session = session
        self.key = community.key

    async def config(self, now: datetime) -> OnboardingConfig:
        """The community's config row, created on first use."""
        row = await self.session.get(OnboardingConfig, self.key)
        if row is None:
            row = OnboardingConfig(community_id=self.key, updated_at=now)
            self.session.add(row)
            await self.session.flush()
        return row

    async def peek_config(self) -> OnboardingConfig | None:
        """The config row if there is one (never creates it)."""
        return await self.session.get(OnboardingConfig, self.key)

    async def member(self, user_id: str, *, lock: bool = False) -> OnboardingMember | None:
        """One member's progress."""
        result: OnboardingMember | None = await self.session.scalar(
            _MEMBER_LOCKED if lock else _MEMBER,
            {"member_community": self.key, "member_user": user_id},
        )
        return result

    async def members_since(self, since: datetime) -> list[OnboardingMember]:
        """Members who joined at or after ``since``."""
        rows = await self.session.scalars(
            select(OnboardingMember).where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.joined_at >= since,
                OnboardingMember.newcomer.is_(True),
            )
        )
        return list(rows)

    async def stored(self, user_ids: list[str] | None, *, present: bool = False) -> set[str]:
        """Which of these members (None: of all) have a row (``present``: and have not left)."""
        if user_ids is not None and not user_ids:
            return set()
        query = select(OnboardingMember.user_id).where(OnboardingMember.community_id == self.key)
        if user_ids is not None:
            query = query.where(OnboardingMember.user_id.in_(user_ids))
        if present:
            query = query.where(OnboardingMember.left_at.is_(None))
        return set(await self.session.scalars(query))

    async def roster(self) -> set[str]:
        """The ids of the members as Steward last knew them (``OnboardingRosterEntry``)."""
        found = await self.session.scalars(
            select(OnboardingRosterEntry.user_id).where(
                OnboardingRosterEntry.community_id == self.key
            )
        )
        return set(found)

    async def enrol(self, user_ids: list[str]) -> None:
        """Add these members to the roster (those already on it stay as they are)."""
        for i in range(0, len(user_ids), CHUNK):
            rows = [{"community_id": self.key, "user_id": u} for u in user_ids[i : i + CHUNK]]
            await insert_ignore(self.session, OnboardingRosterEntry, rows)

    async def unenrol(self, user_ids: list[str]) -> None:
        """Take these members off the roster."""
        for i in range(0, len(user_ids), CHUNK):
            await self.session.execute(
                delete(OnboardingRosterEntry).where(
                    OnboardingRosterEntry.community_id == self.key,
                    OnboardingRosterEntry.user_id.in_(user_ids[i : i + CHUNK]),
                )
            )

    async def unwelcomed(self, since: datetime) -> list[OnboardingMember]:
        """Present newcomers who joined (or came back) at or after ``since`` and were never
        marked welcomed."""
        rows = await self.session.scalars(
            select(OnboardingMember).where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.newcomer.is_(True),
                OnboardingMember.left_at.is_(None),
                OnboardingMember.welcomed_at.is_(None),
                func.coalesce(OnboardingMember.returned_at, OnboardingMember.joined_at) >= since,
            )
        )
        return list(rows)

    async def buddied_by(self, buddy_id: str) -> list[OnboardingMember]:
        """Newcomers with this buddy who are still present."""
        rows = await self.session.scalars(
            select(OnboardingMember).where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.buddy_id == buddy_id,
                OnboardingMember.left_at.is_(None),
            )
        )
        return list(rows)

    async def interests(self) -> list[OnboardingInterest]:
        """Every interest, by name."""
        rows = await self.session.scalars(
            select(OnboardingInterest)
            .where(OnboardingInterest.community_id == self.key)
            .order_by(OnboardingInterest.name)
        )
        return list(rows)

    async def interest(self, name: str) -> OnboardingInterest | None:
        """An interest by name (case-insensitive)."""
        result: OnboardingInterest | None = await self.session.scalar(
            select(OnboardingInterest).where(
                OnboardingInterest.community_id == self.key,
                func.lower(OnboardingInterest.name) == name.lower(),
            )
        )
        return result

    async def picks(self, user_id: str) -> set[int]:
        """The interest ids a member picked."""
        rows = await self.session.scalars(
            select(OnboardingPick.interest_id).where(
                OnboardingPick.community_id == self.key, OnboardingPick.user_id == user_id
            )
        )
        return set(rows)

    async def all_picks(self) -> dict[str, set[int]]:
        """Every member's picks."""
        rows = await self.session.execute(
            select(OnboardingPick.user_id, OnboardingPick.interest_id).where(
                OnboardingPick.community_id == self.key
            )
        )
        out: dict[str, set[int]] = {}
        for user_id, interest_id in rows:
            out.setdefault(user_id, set()).add(interest_id)
        return out

    async def set_picks(self, user_id: str, ids: set[int], now: datetime) -> None:
        """Replace a member's picks."""
        await self.session.execute(
            delete(OnboardingPick).where(
                OnboardingPick.community_id == self.key, OnboardingPick.user_id == user_id
            )
        )
        for interest_id in sorted(ids):
            self.session.add(
                OnboardingPick(
                    community_id=self.key, user_id=user_id, interest_id=interest_id, picked_at=now
                )
            )
        await self.session.flush()

    async def buddy(self, user_id: str) -> OnboardingBuddy | None:
        """A pool entry."""
        return await self.session.get(OnboardingBuddy, (self.key, user_id))

    async def pool(self) -> list[OnboardingBuddy]:
        """The whole buddy pool."""
        rows = await self.session.scalars(
            select(OnboardingBuddy).where(OnboardingBuddy.community_id == self.key)
        )
        return list(rows)

    async def loads(self, since: datetime) -> dict[str, int]:
        """How many present newcomers who joined since ``since`` each buddy looks after."""
        rows = await self.session.execute(
            select(OnboardingMember.buddy_id, func.count())
            .where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.buddy_id.is_not(None),
                OnboardingMember.left_at.is_(None),
                OnboardingMember.joined_at >= since,
            )
            .group_by(OnboardingMember.buddy_id)
        )
        return {str(buddy): int(count) for buddy, count in rows}

    async def intro_by_message(self, message_id: str) -> OnboardingMember | None:
        """The member whose intro is this message."""
        result: OnboardingMember | None = await self.session.scalar(
            select(OnboardingMember).where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.intro_message_id == message_id,
            )
        )
        return result

    async def members_among(self, user_ids: set[str]) -> list[OnboardingMember]:
        """The onboarding rows of these users."""
        if not user_ids:
            return []
        rows = await self.session.scalars(
            select(OnboardingMember).where(
                OnboardingMember.community_id == self.key,
                OnboardingMember.user_id.in_(sorted(user_ids)),
            )
        )
        return list(rows)
