"""The batched writer: an event seen twice is stored once, and rollups equal the raw events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.builtin import Steward
from bot.core import (
    ChannelRef,
    Member,
    MemberJoined,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    UserRef,
)
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


async def test_active_weeks_follow_the_join_day_whatever_order_the_batches_come_in(
    database_url: str,
) -> None:
    """The writer keeps each member's active weeks from their join week (the retention matrix
    reads them): activity stored before the join, a join that arrives later with an earlier
    day, activity before the join in one batch, and weeks far apart all end up as the
    independent definition (``_metrics.retention``) says."""
    from cogs.engagement import _repo
    from cogs.engagement._metrics import day_of, retention
    from cogs.engagement._models import MEMBERS
    from cogs.engagement._rules import weeks_bits

    engagement = Engagement(flush_after=0)
    async with Harness(database_url, [Steward(), engagement]) as h:
        where = ChannelRef(h.community, "200")
        people = {n: Member(UserRef(h.community, n), n) for n in ("a", "b", "c")}
        start = h.clock.now()
        seq = iter(range(5000, 6000))

        def says(who: str, day: int) -> MessagePosted:
            return MessagePosted(
                community=h.community,
                at=start + timedelta(days=day),
                message=MessageRef(where, str(next(seq))),
                author=people[who],
                text="fine",
            )

        def joins(who: str, day: int) -> MemberJoined:
            return MemberJoined(
                community=h.community, at=start + timedelta(days=day), member=people[who]
            )

        batches = [
            # a is active before any join is known; b joins and posts the same day.
            [says("a", 0), says("a", 9), joins("b", 2), says("b", 2)],
            # a's join arrives (day 1); b is back 1 and 4 weeks later; c posts before joining.
            [joins("a", 1), says("b", 9), says("b", 30), says("c", 3), joins("c", 5)],
            # a is back in week 2; b's earlier join (day -6) arrives late; c in week 1.
            [says("a", 16), joins("b", -6), says("c", 12)],
            # Far later: beyond a's kept weeks (63), and c again in week 4.
            [says("a", 7 * 70), says("c", 33)],
        ]
        for batch in batches:
            for event in batch:
                # As catch-up offers what it reads back: at the platform's time (live events
                # count at Steward's clock).
                engagement.ingest.offer(event, at=event.at)
            await engagement.ingest.flush()

        active: dict[str, set[int]] = {n: set() for n in people}
        joined: dict[str, int] = {}
        for event in (e for batch in batches for e in batch):
            if isinstance(event, MessagePosted):
                active[event.author.ref.id].add(day_of(event.at))
            else:
                user, day = event.member.ref.id, day_of(event.at)
                joined[user] = min(day, joined.get(user, day))
        m = MEMBERS.c
        async with h.app.db.uow() as uow:
            stored = dict((await uow.session.execute(select(m.user_id, m.weeks))).all())
            last = day_of(start) + 40
            found = await _repo.retention_matrix(uow.session, h.community.key, last)
        assert {u: int(w) for u, w in stored.items()} == {
            u: weeks_bits(active[u], joined[u]) for u in people
        }
        assert found == retention([(joined[u], active[u]) for u in people], last)
        assert [c.retained for c in found if c.size] != []
