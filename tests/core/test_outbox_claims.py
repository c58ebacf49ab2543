"""An outbox row is claimed by one process for as long as that process lives and sends it.

Each "process" is an App of its own on one database, in this test's event loop (as in
test_shared_database.py). The platform here is slow: a post is held until the test lets it go,
as a 429's Retry-After waited out inside the adapter, or a platform slow to answer, holds it.
Meanwhile the clocks move past the old lease (the first retry's 2 s) and past the new one; the
sending process renews its claim, so the others never send the row too. A process that stops
renewing (killed, or cut off) has its row taken over once, after its lease, with a look first.
And the database going away between a send and its record leaves the send recorded when it
comes back, not made again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from bot.builtin import Steward
from bot.core import Message
from bot.core._outbox_rows import LEASE
from bot.core.ids import ChannelRef, MessageRef
from sandbox.outage import through_outage
from tests.conftest import until
from tests.core.garden import Garden
from tests.core.harness import Harness, RecordingPort, Sent
from tests.core.outbox_support import RENEW, advance, queue, renew_quickly, rows, settle


class SlowPlatform(RecordingPort):
    """Holds each post until ``go`` is set; notes which posts came as a resend (a look first).

    One platform serves every process, as one Slack workspace serves them all."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.waiting = asyncio.Event()
        self.resent: list[str] = []

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        if resend is not None and message.text is not None:
            self.resent.append(message.text)
        self.waiting.set()
        await self.go.wait()
        self.sent.append(Sent(channel, message))
        return self._ref(channel)


def serve(running: Sequence[Harness], platform: RecordingPort) -> None:
    for harness in running:
        harness.port = platform
        harness.app.dispatcher.add_port(platform)


async def renewed(harness: Harness) -> None:
    """Wait until the head row's lease reaches a full lease from the harness's now."""
    want = harness.clock.now() + LEASE

    async def done() -> bool:
        head = (await rows(harness))[0]
        return head.due_at >= want

    await until(done, "renewed its claim (the others would take the row too)")


def posted(platform: RecordingPort) -> Counter[str]:
    return Counter(s.message.text or "" for s in platform.sent)


@pytest.fixture(autouse=True)
def quick_renewals(monkeypatch: pytest.MonkeyPatch) -> None:
    renew_quickly(monkeypatch)


async def test_a_send_slower_than_the_first_retry_is_made_once_by_three_processes(
    database_url: str,
) -> None:
    platform = SlowPlatform()
    running = [Harness(database_url, [Steward(), Garden()]) for _ in range(3)]
    serve(running, platform)
    first, *others = running
    async with first, others[0], others[1]:
        await queue(first, "one", "two", "three")
        await first.app.dispatcher.deliverer.run_due()
        await platform.waiting.wait()  # "one" is with the platform, which takes its time
        for _ in range(3):  # 60 s in all: past the old 2 s and past a whole lease
            advance(running, LEASE * 2 / 3)
            await renewed(first)
            for harness in others:
                await harness.app.dispatcher.deliverer.run_due()
            assert platform.resent == []  # nobody else took the row to look and post
        platform.go.set()
        for harness in running:
            await harness.app.dispatcher.deliverer.run_due()
        for harness in running:
            await harness.app.dispatcher.activity.wait_idle()
        assert [s.message.text for s in platform.sent] == ["one", "two", "three"]
        assert [(r.status, r.claimed_by) for r in await rows(first)] == [("sent", None)] * 3


async def test_a_claim_its_process_stopped_renewing_is_taken_over_once_after_its_lease(
    database_url: str,
) -> None:
    platform = SlowPlatform()
    running = [Harness(database_url, [Steward(), Garden()]) for _ in range(2)]
    serve(running, platform)
    doomed, survivor = running
    async with doomed, survivor:
        await queue(doomed, "one", "two")
        await doomed.app.dispatcher.deliverer.run_due()
        await platform.waiting.wait()
        # The process dies with the post in flight, before the platform took it: its claim
        # is renewed no more.
        await doomed.app.dispatcher.deliverer.close()
        platform.go.set()
        survivor.clock.advance(LEASE - timedelta(seconds=1))
        await settle(survivor)
        assert platform.sent == []  # its lease still runs: the row is not taken yet
        survivor.clock.advance(timedelta(seconds=2))
        await settle(survivor)
        assert platform.resent == ["one", "two"]  # taken over (claimed together), looking first
        assert posted(platform) == Counter(["one", "two"])
        assert [s.message.text for s in platform.sent] == ["one", "two"]
        assert [r.status for r in await rows(survivor)] == ["sent", "sent"]
        survivor.clock.advance(LEASE * 2)
        await settle(survivor)
        assert posted(platform) == Counter(["one", "two"])


async def test_the_database_away_between_a_send_and_its_record_sends_nothing_twice(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The soak's doubled Slack welcome: the post went out, the database went away before its
    record, and the retry posted it again. Now the outcome waits, noted, for the database,
    and no process (this one or another) sends the row again meanwhile."""
    monkeypatch.setenv("STEWARD_SQLITE_BUSY_TIMEOUT_MS", "100")
    platform = SlowPlatform()
    async with through_outage(database_url) as (url, outage):
        running = [Harness(url, [Steward(), Garden()])]
        if database_url.startswith("postgresql"):  # SQLite serves one process
            running.append(Harness(database_url, [Steward(), Garden()]))
        serve(running, platform)
        async with running[0]:
            if len(running) > 1:
                await running[1].__aenter__()
            try:
                first = running[0]
                await queue(first, "one", "two")
                await first.app.dispatcher.deliverer.run_due()
                await platform.waiting.wait()
                await outage.away()
                try:
                    platform.go.set()  # the platform takes "one"; its record fails
                    await until(lambda: platform.sent, "the post taken by the platform")
                    advance(running, timedelta(seconds=5))  # past the old 2 s retry
                    await settle(*running[1:])  # another process, its database there
                    await asyncio.sleep(RENEW * 4)  # renewals and records fail meanwhile
                finally:
                    await outage.back()
                for harness in running:
                    await harness.app.dispatcher.activity.wait_idle()
                for _ in range(2):
                    advance(running, timedelta(seconds=5))
                    await settle(*running)
                assert posted(platform) == Counter(["one", "two"])
                assert platform.resent == []
                assert [r.status for r in await rows(first)] == ["sent", "sent"]
            finally:
                if len(running) > 1:
                    await running[1].__aexit__(None, None, None)
