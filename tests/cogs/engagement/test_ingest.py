"""The batched writer: an event seen twice is stored once, and rollups equal the raw events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.builtin import Steward
from bot.core import ChannelRef, Member, MessagePosted, MessageRef, ReactionAdded, UserRef
from cogs.engagement import Engagement
from cogs.engagement._models import EVENTS, MEMBER_DAYS
from tests.core.harness import Harness


async def test_replayed_events_are_stored_once_and_rollups_match_raw(database_url: str) -> None:
    engagement = Engagement(flush_after=0)
    async with Harness(database_url, [Steward(), engagement]) as h:
        where = ChannelRef(h.community, "200")
        people = [Member(UserRef(h.community, f"u{i}"), f"p{i}") for i in range(5)]
        bot = Member(UserRef(h.community, "b"), "bot", is_bot=True)
        events = []
        for i in range(40):
            at = h.clock.now() + timedelta(hours=i)
            author = people[i % 5]
            events.append(
                MessagePosted(
                    community=h.community,
                    at=at,
                    message=MessageRef(where, str(1000 + i)),
                    author=author,
                    text="how does this work?" if i % 7 == 0 else "fine",
                    reply_to=MessageRef(where, str(1000 + i - 1)) if i % 3 == 0 and i else None,
                )
            )
            events.append(
                ReactionAdded(
                    community=h.community,
                    at=at,
                    message=MessageRef(where, str(1000 + i)),
                    user=people[(i + 1) % 5].ref,
                    emoji="👍",
                )
            )
        events.append(
            MessagePosted(
                community=h.community,
                at=h.clock.now(),
                message=MessageRef(where, "9"),
                author=bot,
                text="beep",
            )
        )
        for event in events + events[:10]:  # a few seen twice within one batch
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        # A replay of half of them after they are on disk (a catch-up over history already
        # stored): only the database's ON CONFLICT on the idempotency key can tell.
        for event in events[::2]:
            await h.app.dispatcher.publish(event)
        await engagement.ingest.flush()
        async with h.app.db.uow() as uow:
            s = uow.session
            assert await s.scalar(select(func.count()).select_from(EVENTS)) == 80
            raw = (
                await s.execute(
                    select(EVENTS.c.kind, func.count())
                    .group_by(EVENTS.c.kind)
                    .order_by(EVENTS.c.kind)
                )
            ).all()
            rolled = (
                await s.execute(
                    select(func.sum(MEMBER_DAYS.c.messages), func.sum(MEMBER_DAYS.c.reactions))
                )
            ).one()
        assert [tuple(r) for r in raw] == [("message", 40), ("reaction", 40)]
        assert tuple(rolled) == (40, 40)
