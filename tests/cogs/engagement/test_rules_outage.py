"""The database away while engagement's settings expire: the last ones stay in use, and the log
says so once (then once a minute at most) and once when they are read again, not per batch."""

from __future__ import annotations

import pytest

from bot.builtin import Steward
from bot.core import ChannelRef, Member, MessagePosted, MessageRef, UserRef
from bot.core.settings import cache_of
from cogs.engagement import Engagement
from tests.core.harness import Harness
from tests.core.test_database_away import through_outage

FAILED = "reading the engagement settings failed"
STILL = "reading the engagement settings still fails"
BACK = "the engagement settings are read again"


async def test_rules_that_cannot_be_renewed_during_an_outage_are_logged_once_not_per_batch(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.db.engine.SQLITE_BUSY_TIMEOUT_MS", 50)  # fail fast, not in 30 s
    async with through_outage(database_url) as (url, outage):
        engagement = Engagement(flush_after=0, max_batch=1)
        async with Harness(url, [Steward(), engagement]) as h:
            ingest = engagement.ingest
            author = Member(UserRef(h.community, "u1"), "p1")
            channel = ChannelRef(h.community, "300")

            async def post(n: int) -> None:
                event = MessagePosted(
                    community=h.community,
                    at=h.clock.now(),
                    message=MessageRef(channel, str(9000 + n)),
                    author=author,
                    text="hello",
                )
                await h.app.dispatcher.publish(event)
                while ingest._buffer:  # the batch has left, its rules renewed meanwhile
                    await ingest._send_buffered()
                if ingest._renewing is not None:
                    await ingest._renewing

            await post(0)
            await ingest.flush()  # the rules are cached ...
            cache = cache_of(h.app.db.engine)
            assert cache is not None
            cache.ttl = 0  # ... and expire at once: every batch renews them
            await outage.away()
            try:
                for n in range(1, 6):
                    await post(n)
                said = [r.getMessage() for r in caplog.records]
                assert sum(FAILED in line for line in said) == 1
                assert not any(STILL in line or BACK in line for line in said)
                assert not any(r.exc_info for r in caplog.records if FAILED in r.getMessage())
            finally:
                await outage.back()
            await post(6)
            await ingest.flush()
            said = [r.getMessage() for r in caplog.records]
            assert sum(FAILED in line for line in said) == 1
            assert sum(BACK in line for line in said) == 1
