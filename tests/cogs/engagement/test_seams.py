"""Engagement's fast path uses the core's seams: one set of known communities for the process."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.builtin import Steward
from bot.core import ChannelRef, Member, MessagePosted, MessageRef, UserRef
from bot.db.models import Community as CommunityRow
from cogs.engagement import Engagement
from cogs.engagement._models import EVENTS
from sandbox.scenario import Community, replies
from tests.cogs.engagement.test_health_report import field
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


async def test_the_dispatchers_steps_decide_on_the_fast_path_too(community: Community) -> None:
    """The moderator role (the level step) and switching the feature off (the enabled step)
    apply alike to a command (the dispatcher) and to engagement's ingest (its fast path)."""
    ada, alice, bob = community.people["ada"], community.people["alice"], community.people["bob"]
    community.add_role("helpers")
    await community.set_role(bob, "helpers", has=True)
    await community.configure("steward", moderator_role=community.role_mention("helpers"))
    asked = await community.says(alice, "how do I join the meetup?")
    await replies(community, bob, asked, "sign up in the wiki")
    # The command path: holding the moderator role, bob may read the report...
    shown = await community.slash(bob, "engagement report", period="7d")
    assert "you need to be" not in shown.text, shown.text
    # ...and the fast path counted his answer as the staff's.
    assert field(shown.text, "Answered by") == "staff 100%, members 0% (first answers)"

    off = await community.slash(ada, "steward features", feature="engagement", switch=False)
    assert off.text == "engagement is now off in this community."
    await community.says(alice, "posted while engagement is off")
    refused = await community.slash(bob, "engagement report", period="7d")
    assert refused.ephemeral and "switched off" in refused.text
    await community.slash(ada, "steward features", feature="engagement", switch=True)
    shown = await community.slash(bob, "engagement report", period="7d")
    assert field(shown.text, "Messages") == "2"  # the message posted while off was not stored
