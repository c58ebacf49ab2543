"""Engagement's fast path uses the core's seams: one set of known communities for the process."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.builtin import Steward
from bot.core import ChannelRef, Member, MessagePosted, MessageRef, UserRef
from bot.db.models import Community as CommunityRow
from cogs.engagement import Engagement
from cogs.engagement._models import EVENTS
from sandbox.scenario import Community
from tests.core.harness import Harness


async def test_a_community_first_seen_by_the_fast_path_is_known_to_the_dispatcher(
    database_url: str,
) -> None:
    engagement = Engagement(flush_after=0)
    async with Harness(database_url, [Steward(), engagement]) as h:
        assert h.community.key not in h.app.dispatcher.communities
        author = Member(UserRef(h.community, "u1"), "Ada")
        await h.app.dispatcher.publish(
            MessagePosted(
                community=h.community,
                at=h.clock.now(),
                message=MessageRef(ChannelRef(h.community, "200"), "1000"),
                author=author,
                text="hello",
            )
        )
        await engagement.ingest.flush()
        async with h.app.db.uow() as uow:
            stored = await uow.session.scalar(select(func.count()).select_from(EVENTS))
            rows = await uow.session.scalar(
                select(func.count())
                .select_from(CommunityRow)
                .where(CommunityRow.id == h.community.key)
            )
        assert (stored, rows) == (1, 1)
        # The dispatcher will not register it again: the ingest used the process's one set.
        assert h.community.key in h.app.dispatcher.communities


async def test_opting_out_twice_is_the_same_as_once(community: Community) -> None:
    bob = community.people["bob"]
    await community.says(bob, "before")
    first = await community.slash(bob, "engagement optout")
    again = await community.slash(bob, "engagement optout")
    assert first.ephemeral and again.ephemeral
    assert "deleted" in first.text and "already opted out" in again.text
    await community.says(bob, "while out")
    mine = await community.slash(bob, "engagement me", period="7d")
    assert "opted out" in mine.text
