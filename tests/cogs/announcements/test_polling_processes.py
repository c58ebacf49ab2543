"""Several processes on one PostgreSQL poll each feed once per cycle, even when one process's
cycle runs into the next (a slow feed): the feeds it claimed are not polled again meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from bot.builtin import Steward
from bot.core.communities import ensure_community
from cogs.announcements._models import AnnouncementFeed
from sandbox.feeds import FeedServer
from tests.cogs.announcements.conftest import CONFIG, announcements, rss
from tests.core.harness import Harness
from tests.core.test_shared_database import on_postgres


async def test_a_feed_is_polled_once_while_a_slow_cycle_runs_into_the_next(
    database_url: str, public: FeedServer
) -> None:
    on_postgres(database_url)  # SQLite serves one process
    gate, entered = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        entered.set()
        await gate.wait()
        return web.Response(body=rss("a1"), content_type="application/rss+xml")

    urls = [public.put(f"/f{n}.xml", rss(f"item{n}")) for n in range(3)]
    urls.append(public.on("/slow.xml", slow))
    first = Harness(database_url, [Steward(), announcements()], **CONFIG)
    second = Harness(database_url, [Steward(), announcements()], **CONFIG)
    async with first, second:
        async with first.app.db.uow() as uow:
            now = first.clock.now()
            await ensure_community(uow.session, first.community, now)
            for url in urls:
                uow.session.add(
                    AnnouncementFeed(
                        community_id=first.community.key,
                        url=url,
                        added_by="u-ada",
                        added_at=now,
                        next_poll_at=now,
                    )
                )
            await uow.commit()
        first.clock.advance(timedelta(minutes=1))
        cycle = asyncio.create_task(first.app.jobs.run_due())
        await entered.wait()  # the first process's cycle waits on the slow feed
        second.clock.advance(timedelta(minutes=1))
        await second.app.jobs.run_due()  # this cycle is the first process's: skipped
        second.clock.advance(timedelta(minutes=2))
        await second.app.jobs.run_due()  # the next one, while the first is still polling
        gate.set()
        await cycle
        paths = ["/f0.xml", "/f1.xml", "/f2.xml", "/slow.xml"]
        assert {path: public.requests[path] for path in paths} == dict.fromkeys(paths, 1)
