"""Who is in the pool: members who joined, the members of a pool channel, newcomers who accepted
an offer, and the interests onboarding told about them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core import Button, Context, Message, UserRef, mention
from bot.core.errors import StewardError
from cogs.introductions._models import IntroMember
from cogs.introductions._repo import Repo
from cogs.introductions.settings import IntroductionsSettings

OFFER = (
    "Welcome aboard! Every round, introductions puts a few members who haven't met yet in a "
    "small private group to say hello. Would you like to take part?"
)


class Pool:
    """The pool of one community, as one handler call sees it."""

    def __init__(self, ctx: Context[IntroductionsSettings], repo: Repo, now: datetime) -> None:
        self.ctx = ctx
        self.s = ctx.settings
        self.repo = repo
        self.now = now

    async def channel_people(self, *, tell_staff: bool) -> set[str] | None:
        """Who is in the pool channel (None: no pool channel, or it could not be read; the
        staff are told once when ``tell_staff``)."""
        channel = self.s.pool_channel
        if channel is None:
            return None
        try:
            people = await self.ctx.port.channel_members(channel)
        except StewardError as exc:
            self.ctx.log.warning("could not read the pool channel's members: %s", exc)
            if tell_staff:
                await self.ctx.alert_staff(
                    f"Introductions couldn't read who is in {mention(channel)}: {exc}\n"
                    "Until it can, rounds take only the members who typed `/introductions join`.",
                    key="introductions:pool_channel",
                )
            return None
        return {u.id for u in people}

    async def in_channel(self, user_id: str) -> bool:
        """Whether a member is in the pool channel (False when there is none)."""
        return user_id in (await self.channel_people(tell_staff=False) or set())

    async def members(self) -> list[IntroMember]:
        """Everyone in the pool (paused or not), by id: members who joined, and the pool
        channel's members who never left the pool themselves."""
        joined = await self.repo.opted_in()
        people = await self.channel_people(tell_staff=True)
        if not people:
            return joined
        ids = {m.user_id for m in joined}
        rows = await self.repo.members_among(people - ids)
        extra = []
        for user_id in sorted(people - ids):
            row = rows.get(user_id) or await self.repo.ensure_member(user_id, self.now)
            if not row.opted_out:
                extra.append(row)
        return sorted([*joined, *extra], key=lambda m: m.user_id)

    async def counts_as_in(self, row: IntroMember | None, user_id: str) -> bool:
        """Whether a member is in the pool: joined, or in the pool channel and never left."""
        if row is not None and row.opted_in:
            return True
        opted_out = row is not None and row.opted_out
        return not opted_out and self.s.pool_channel is not None and await self.in_channel(user_id)

    # -- what onboarding tells --------------------------------------------------------------

    async def interests_chosen(self, user_id: str, names: Iterable[str]) -> None:
        """Keep the interests a member picked in onboarding."""
        row = await self.repo.ensure_member(user_id, self.now)
        row.interests = "\n".join(sorted({" ".join(n.split())[:80] for n in names} - {""}))
        row.updated_at = self.now

    async def offer(self, user: UserRef) -> bool:
        """Offer a newcomer a place in the pool, once; False when they are in it already,
        left it, or were offered one before."""
        if not self.s.offer_newcomers:
            return False
        row = await self.repo.ensure_member(user.id, self.now)
        if row.offered_at is not None or row.opted_out or await self.counts_as_in(row, user.id):
            return False
        row.offered_at = self.now
        buttons = (Button("join_offer", "Join introductions", style="primary"),)
        await self.ctx.deliver(user, Message(text=OFFER, buttons=buttons), key=f"offer:{user.id}")
        return True
