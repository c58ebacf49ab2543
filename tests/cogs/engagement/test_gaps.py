"""Active members and communicators of any window, as the writer keeps them, against the truth.

Members post and react on random days; the events reach the writer in shuffled batches (late
events between days already stored, a catch-up of old days, reactions taken back, replays), a
member opts out, and the distinct actives of windows ending on every kind of day (latest, past,
WAU, MAU, a quarter, longer than the gaps answer) equal the ones counted here from the events.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, text

from bot.builtin import Steward
from bot.core import (
    ChannelRef,
    Event,
    Member,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)
from cogs.engagement import Engagement, _admin, _repo
from cogs.engagement._gaps import BACKFILL
from cogs.engagement._metrics import day_of
from cogs.engagement._models import MEMBER_GAPS
from tests.core.harness import Harness

DAYS = 130


async def test_actives_of_any_window_match_the_events_whatever_order_they_arrive_in(
    database_url: str,
) -> None:
    rng = random.Random(14)
    engagement = Engagement(flush_after=0)
    async with Harness(database_url, [Steward(), engagement]) as h:
        where = ChannelRef(h.community, "200")
        people = [Member(UserRef(h.community, f"u{i}"), f"p{i}") for i in range(14)]
        start = h.clock.now() - timedelta(days=DAYS)
        first = day_of(start)
        seq = iter(range(10_000, 90_000))
        events: list[Event] = []
        active: dict[str, set[int]] = {p.ref.id: set() for p in people}
        posted: dict[str, set[int]] = {p.ref.id: set() for p in people}
        for i, person in enumerate(people):
            rate = (0.02, 0.1, 0.4)[i % 3]
            for day in range(DAYS):
                if rng.random() >= rate:
                    continue
                at = start + timedelta(days=day, hours=rng.randrange(24))
                user = person.ref.id
                active[user].add(day_of(at))
                if rng.random() < 0.6:
                    posted[user].add(day_of(at))
                    events.append(
                        MessagePosted(
                            community=h.community,
                            at=at,
                            message=MessageRef(where, str(next(seq))),
                            author=person,
                            text="fine",
                        )
                    )
                else:
                    # A reaction, sometimes taken back: the member was active that day still.
                    target = MessageRef(where, str(next(seq)))
                    events.append(
                        ReactionAdded(
                            community=h.community,
                            at=at,
                            message=target,
                            user=person.ref,
                            emoji="👍",
                        )
                    )
                    if rng.random() < 0.3:
                        events.append(
                            ReactionRemoved(
                                community=h.community,
                                at=at + timedelta(minutes=1),
                                message=target,
                                user=person.ref,
                                emoji="👍",
                            )
                        )
        # Most arrive in time order; a third are shuffled in late, some days replayed.
        ordered = events[:]
        ordered.sort(key=lambda e: e.at)
        late = rng.sample(range(len(ordered)), len(ordered) // 3)
        kept = [e for i, e in enumerate(ordered) if i not in set(late)]
        for i in late:
            kept.insert(rng.randrange(len(kept) + 1), ordered[i])
        kept += rng.sample(ordered, 20)
        for i in range(0, len(kept), rng.randint(5, 40)):
            for event in kept[i : i + 40]:
                engagement.ingest.offer(event, at=event.at)
            await engagement.ingest.flush()

        gone = people[4].ref.id  # opts out: counted nowhere
        async with h.app.db.uow() as uow:
            await _admin.forget(uow.session, h.community.key, gone, h.clock.now())
            await uow.commit()
        del active[gone], posted[gone]

        def truth(days: dict[str, set[int]], lo: int, hi: int) -> int:
            return sum(1 for d in days.values() if any(lo <= x <= hi for x in d))

        last_day = first + DAYS - 1
        windows = [
            (last - span + 1, last)
            for last in (last_day, last_day - 1, last_day - 30, first + 45, first + 3, last_day + 5)
            for span in (1, 7, 30, 31, 92, 93, 120)
        ]
        async with h.app.db.uow() as uow:
            s = uow.session
            for lo, hi in windows:
                for days, flag in ((active, False), (posted, True)):
                    found = await _repo.active_since(s, h.community.key, (lo,), hi, posted=flag)
                    assert found == [truth(days, lo, hi)], (lo - first, hi - first, flag)
            # WAU, MAU and the period in one pass, as a report reads them.
            for hi in (last_day, last_day - 40):
                firsts = (hi - 29, hi - 6, hi - 13)
                both = await _repo.active_since(s, h.community.key, firsts, hi)
                assert both == [truth(active, lo, hi) for lo in firsts]
            # What the writer kept equals the gaps counted from the member days afresh.
            g = MEMBER_GAPS.c
            kept_rows = {
                (d, since): (a, p)
                for d, since, a, p in await s.execute(select(g.day, g.since, g.active, g.posted))
                if a or p
            }
            await s.execute(text("DELETE FROM engagement_member_gaps"))
            await s.execute(text(BACKFILL))
            afresh = {
                (d, since): (a, p)
                for d, since, a, p in await s.execute(select(g.day, g.since, g.active, g.posted))
            }
            await uow.rollback()
        assert kept_rows == afresh


async def test_questions_asked_per_day_follow_every_insert_and_delete(database_url: str) -> None:
    """The questions a report counts (``engagement_question_days``, kept by triggers) are the
    questions stored, after inserts one by one and in bulk, deletions and a member's opt-out."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, func, insert

    from bot.db.engine import Database
    from cogs.engagement._metrics import Period
    from cogs.engagement._models import QUESTIONS
    from cogs.engagement._questions import answers, questions_asked

    first = 20_454
    rng = random.Random(3)
    rows = [
        {
            "community_id": "discord:1",
            "key": f"m:{i}",
            "channel_id": "200",
            "thread_id": None,
            "message_id": str(i),
            "user_id": f"u{i % 5}",
            "asked_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day),
            "day": first + day,
        }
        for i, day in enumerate(rng.randrange(40) for _ in range(120))
    ]
    db = Database(database_url)
    q = QUESTIONS.c
    try:
        async with db.uow() as uow:
            s = uow.session
            await s.execute(insert(QUESTIONS), rows[:100])  # in bulk
            for row in rows[100:]:
                await s.execute(insert(QUESTIONS).values(**row))  # one by one
            await s.execute(
                delete(QUESTIONS).where(q.key.in_([f"m:{i}" for i in range(0, 120, 7)]))
            )
            await _admin.forget(s, "discord:1", "u3", datetime(2026, 3, 1, tzinfo=UTC))
            await uow.commit()
        async with db.uow() as uow:
            s = uow.session
            for lo, hi in ((0, 39), (0, 6), (10, 12), (39, 45), (20, 20)):
                period = Period(first + lo, first + hi)
                stored = await s.scalar(
                    select(func.count()).where(q.day.between(period.first, period.last))
                )
                assert (await answers(s, "discord:1", period)).asked == stored
                assert await questions_asked(s, "discord:1", period) == stored
            assert stored is not None and stored > 0
    finally:
        await db.dispose()
