"""The database goes silent in the middle of a feed poll: the poll gives up on it within the
statement timeout, waits for the database with everything else, and once it answers the feeds
are polled again and their items posted.

Silent is the outage that does not say so: a route dropping packets, a server frozen or gone
without a word. Every open connection goes half-open, so a statement on it never gets an answer
(nothing resets it, as the loopback proxy does in the database-away test), and a new connection
is taken and never answered. Before Steward bounded its PostgreSQL calls, the poll waited for
ever inside its SELECT: APScheduler skipped every later poll ("maximum number of running
instances reached") and no feed was polled again. PostgreSQL only: SQLite has no connection to
lose (its outage, the lock, is the database-away test's).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from aiohttp import web

from bot.builtin import Steward
from sandbox.feeds import FeedServer
from sandbox.outage import through_outage
from sandbox.scenario import open_community
from tests.cogs.announcements.conftest import CONFIG, announcements, relayed, rss, shown_as
from tests.core.test_database_away import Recorded
from tests.core.test_shared_database import on_postgres

TIMEOUT_MS = 2000
"""The statement and connect timeouts here (production: 60 s and 10 s); not shorter, or a busy
test machine's ordinary statements would run out of time too."""


@pytest.mark.parametrize("platform", ["discord", "slack"])
async def test_a_poll_whose_database_goes_silent_gives_up_and_polling_resumes_once_it_is_back(
    platform: str, database_url: str, public: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgres(database_url)
    monkeypatch.setenv("STEWARD_PG_COMMAND_TIMEOUT_MS", str(TIMEOUT_MS))
    monkeypatch.setenv("STEWARD_PG_CONNECT_TIMEOUT_MS", str(TIMEOUT_MS))
    hold, fetching = asyncio.Event(), asyncio.Event()
    hold.set()
    items = ["one"]

    async def blog(request: web.Request) -> web.StreamResponse:
        fetching.set()
        await hold.wait()
        return web.Response(body=rss(*reversed(items)), content_type="application/rss+xml")

    url = public.on("/blog.xml", blog)
    async with (
        asyncio.timeout(120),  # fails rather than hangs without the timeouts
        through_outage(database_url) as (steward_url, outage),
        open_community(platform, steward_url, [Steward(), announcements()], config=CONFIG) as c,
    ):
        proxy = outage.proxy
        assert proxy is not None
        app = c.app
        app.dispatcher.retry_delays = (0.1,)  # the gate's probes, scaled down
        await c.slash(c.people["ada"], "announcements add", url=url, channel="#general")
        assert relayed(c) == []  # the first fetch posts nothing

        items.append("two")
        hold.clear()
        fetching.clear()
        logged = Recorded()
        logging.getLogger("steward").addHandler(logged)
        try:
            c.clock.advance(timedelta(minutes=11))
            poll = asyncio.create_task(app.jobs.run_due())
            await asyncio.wait_for(fetching.wait(), 30)  # the poll has its transaction open
            proxy.silent()  # ... and its connection goes half-open
            hold.set()
            # The poll's next statement gets no answer: it gives up on it and waits for the
            # database at the gate, whose probes get no answer either.
            while not app.dispatcher.database.away:  # (without the timeouts, for ever)
                assert not poll.done(), poll
                await asyncio.sleep(0.05)
            assert relayed(c) == []
            proxy.back()
            # The poll ends once the database answers (without the timeouts, never). The feed
            # it had claimed stays claimed for the claim's few minutes: it is not polled twice.
            await asyncio.wait_for(poll, 60)
        finally:
            proxy.back()
            hold.set()
            logging.getLogger("steward").removeHandler(logged)
        await c.settle()
        assert relayed(c) == []

        # The next polls go on as before: what the cut poll read is posted, then what is new.
        await c.advance(minutes=11)
        assert [shown_as(c, p)[0] for p in relayed(c)] == ["two"]
        items.append("three")
        await c.advance(minutes=11)
        assert [shown_as(c, p)[0] for p in relayed(c)] == ["two", "three"]

    # Said once that the database was away, in one line, and once that it is back.
    lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in logged.records]
    assert not [r for r in logged.records if r.exc_info], lines
    said = [line for line in lines if "steward.database" in line]
    assert len(said) == 2, lines
    assert "the database is unreachable (TimeoutError" in said[0], lines
    assert "the database answers again" in said[1], lines
