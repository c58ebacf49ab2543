"""A claim's lease and the fake Slack: a post in flight is never made twice by two processes.

Each "process" is an App of its own on one database (as in test_outbox_claims.py), sending
through its own real SlackPort to one fake Slack workspace. The fake holds a post on its way
(``stall_before``): the platform takes it late, after the client stopped waiting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

import bot.core.outbox
from bot.adapters.slack.port import SlackPort
from bot.builtin import Steward
from bot.core import Message
from bot.core._outbox_rows import LANDS, LEASE
from bot.core.errors import Unavailable
from bot.core.ids import ChannelRef, CommunityRef, MessageRef
from bot.core.pacing import Limits
from bot.db.models import OutboxItem
from sandbox.discord.limits import default_speed
from sandbox.outage import through_outage
from sandbox.slack import FakeSlack
from sandbox.slack.state import StoredMessage
from tests.conftest import until
from tests.core.garden import Garden
from tests.core.harness import Harness, RecordingPort, Sent
from tests.core.outbox_support import RENEW, advance, queue, renew_quickly, rows, settle
from tests.sandbox.slack.slack_support import require_validator

SEND_TIMEOUT = 0.3
"""Seconds a try may take here (6 s in production)."""


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    renew_quickly(monkeypatch)
    monkeypatch.setattr(bot.core.outbox, "SEND_TIMEOUT", timedelta(seconds=SEND_TIMEOUT))


def slack_port(fake: FakeSlack) -> SlackPort:
    """A process's own port, its client as the adapter builds it (429s waited out), pacing to
    the fake's speed as the adapter does (``STEWARD_PLATFORM_SPEED``; at the real platform's
    speed 30 resends took one second each)."""
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    return SlackPort(client, limits=Limits(default_speed()))


def on_slack(url: str, fake: FakeSlack) -> Harness:
    """A process sending to the fake workspace's #general through its own port; the fake
    stamps messages by its clock (the last process made's)."""
    harness = Harness(url, [Steward(), Garden()])
    harness.community = CommunityRef("slack", fake.team.id)
    harness.channel = ChannelRef(harness.community, fake.general().id)
    harness.app.dispatcher.add_port(slack_port(fake))
    fake.follow_clock(harness.clock.now)
    return harness


def posts(fake: FakeSlack, text: str) -> list[StoredMessage]:
    return [m for m in fake.messages_in(fake.general()) if m.data.get("text") == text]


async def welcomed_once(fake: FakeSlack, harness: Harness) -> None:
    """The welcome is in #general once, and its row is sent, naming that post."""
    welcomes = posts(fake, "welcome")
    assert len(welcomes) == 1, f"{len(welcomes)} welcomes in the channel"
    [row] = await rows(harness)
    assert (row.status, row.message_id) == ("sent", welcomes[0].ts)


async def test_a_process_cut_off_mid_send_gives_it_up_before_its_lease_and_nothing_doubles(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The hole: a process sends, is cut off from the database (it renews no more), its lease
    passes, another takes the row, looks in the channel, does not see the post yet (it lands
    later) and posts again. Now a try is cut at the send timeout, which ends well inside the
    lease left when it began: by the time the lease passes, the first post has landed, and the
    look finds it."""
    monkeypatch.setenv("STEWARD_SQLITE_BUSY_TIMEOUT_MS", "100")
    caplog.set_level(logging.WARNING, "steward.outbox")
    async with (
        FakeSlack(validate=require_validator(), ack_deadline=2.0) as fake,
        through_outage(database_url) as (url, outage),
    ):
        cut_off = on_slack(url, fake)  # through the proxy on PostgreSQL
        other = on_slack(database_url, fake)
        running = [cut_off, other]
        land = asyncio.Event()
        fake.faults.stall_before("chat.postMessage", land.wait, channel=fake.general().id)
        async with cut_off, other:
            await queue(cut_off, "welcome")
            await cut_off.app.dispatcher.deliverer.run_due()
            await until(lambda: bool(fake.calls_to("chat.postMessage")), "posted")
            await outage.away()  # renewals and records fail from now on
            try:
                # The operator's line: the try was given up, its outcome unknown.
                await until(
                    lambda: "no answer within" in caplog.text,
                    "gave up its send (it would be in flight still when its lease passed)",
                )
                land.set()  # the platform takes the post only now, after the client gave up
                await until(lambda: bool(posts(fake, "welcome")), "landed")
                if database_url.startswith("postgresql"):  # only the first is cut off
                    advance(running, LEASE + timedelta(seconds=1))
                    await settle(other)
            finally:
                await outage.back()
            for _ in range(3):
                advance(running, LANDS + timedelta(seconds=1))
                await settle(*running)
            await welcomed_once(fake, other)


@pytest.mark.parametrize("after", [300, 1500])
async def test_the_look_back_reads_past_a_busy_channels_latest_page(
    database_url: str, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    """A welcome went out, then hundreds of other messages (more than a page of Slack's
    history) came before the crash's look: the look pages back (cursor, down to the delivery's
    time) and finds the welcome; nothing is posted again."""
    monkeypatch.setattr(bot.core.outbox, "SEND_TIMEOUT", timedelta(seconds=60))  # the fake is slow
    async with FakeSlack(validate=require_validator(), ack_deadline=2.0) as fake:
        harness = on_slack(database_url, fake)
        async with harness:
            await queue(harness, "welcome")
            # The process takes the post and stops before its answer: the row stays attempted.
            answer = asyncio.Event()
            fake.faults.stall_after("chat.postMessage", answer.wait)
            await harness.app.dispatcher.deliverer.run_due()
            await until(lambda: bool(posts(fake, "welcome")), "posted")
            await harness.app.dispatcher.deliverer.close()
            answer.set()
        general = fake.general()
        member = fake.add_user("chatty")
        for n in range(after):
            harness.clock.advance(timedelta(seconds=1))
            data = {"type": "message", "user": member.id, "text": f"hello {n}"}
            data |= {"ts": fake.world.next_ts(), "team": fake.team.id}
            fake.world.messages[general.id].append(StoredMessage(general.id, data, via="user"))
        again = on_slack(database_url, fake)
        again.clock.advance(harness.clock.now() - again.clock.now())
        async with again:
            for _ in range(3):
                again.clock.advance(LEASE + timedelta(seconds=1))
                await settle(again)
            await welcomed_once(fake, again)


class HeldPlatform(RecordingPort):
    """Each send waits for the test: ``gates`` in order, one per send; a gate set to an
    exception ends that send with it."""

    def __init__(self) -> None:
        super().__init__()
        self.gates: list[asyncio.Future[None]] = []
        self.tried: list[str] = []

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: object = None,
    ) -> MessageRef:
        gate = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        self.tried.append(message.text)
        await gate
        self.sent.append(Sent(channel, message))
        return self._ref(channel)


async def test_a_late_outcome_of_a_claim_taken_over_leaves_the_new_claim_alone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process is cut off while its send is out; its lease passes and another takes the row
    and sends it. The first one's try then comes to nothing, and its outcome is written once the
    database answers: it must not clear the second one's claim (the row would be due again
    and sent a second time while the second send is still out)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process at a time: a start frees every claim")
    monkeypatch.setattr(bot.core.outbox, "SEND_TIMEOUT", timedelta(seconds=30))
    platform = HeldPlatform()
    async with through_outage(database_url) as (url, outage):
        late = Harness(url, [Steward(), Garden()])
        taker = Harness(database_url, [Steward(), Garden()])
        running = [late, taker]
        for harness in running:
            harness.port = platform
            harness.app.dispatcher.add_port(platform)
        async with late, taker:
            await queue(late, "welcome")
            await late.app.dispatcher.deliverer.run_due()
            await until(lambda: len(platform.gates) == 1, "sent by the first")
            await outage.away()
            try:
                advance(running, LEASE + timedelta(seconds=1))
                await taker.app.dispatcher.deliverer.run_due()
                await until(lambda: len(platform.gates) == 2, "taken over")
                # The first try comes to nothing; its outcome waits for the database.
                platform.gates[0].set_exception(Unavailable("the platform is away"))
                await asyncio.sleep(RENEW * 4)
            finally:
                await outage.back()
            await late.app.dispatcher.activity.wait_idle()  # its outcome is written
            advance(running, timedelta(seconds=5))  # past the first try's retry
            await late.app.dispatcher.deliverer.run_due()
            await taker.app.dispatcher.deliverer.run_due()
            await asyncio.sleep(RENEW * 4)
            assert platform.tried == ["welcome", "welcome"]  # nobody sent it a third time
            [row] = await rows(taker)
            assert row.claimed_by == taker.app.dispatcher.deliverer.me
            platform.gates[1].set_result(None)
            await settle(*running)
            assert [s.message.text for s in platform.sent] == ["welcome"]
            [row] = await rows(taker)
            assert row.status == "sent"


async def test_resends_after_a_restart_share_one_look_at_the_channel(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed process leaves a channel's rows attempted, some of them posted: the restart
    looks for each before sending it again. Slack's history is Tier 3 (50 reads a minute), so
    a read per resend would run into 429s after a restart with a backlog; the lane's resends
    share one read (made after their earlier tries' leases ended) and what the process posts
    since. Each post is in the channel once, and the channel was read once, not 30 times."""
    monkeypatch.setattr(bot.core.outbox, "SEND_TIMEOUT", timedelta(seconds=30))
    async with FakeSlack(validate=require_validator(), ack_deadline=2.0) as fake:
        harness = on_slack(database_url, fake)
        texts = [f"post {n}" for n in range(30)]
        async with harness:
            for text in texts:
                await queue(harness, text)
            # What the killed process got out before it died: the first ten, keyed.
            earlier = slack_port(fake)
            queued = await rows(harness)
            for row in queued[:10]:
                message = Message(text=row.payload["text"])
                await earlier.send(harness.channel, message, key=row.idempotency_key)
            async with harness.app.db.uow() as uow:
                for row in await uow.session.scalars(select(OutboxItem)):
                    row.attempted_at = harness.clock.now()  # all tried, their leases passed
                    row.due_at = harness.clock.now() + LEASE
                await uow.commit()
            harness.clock.advance(LEASE + timedelta(minutes=1))  # the restart came a minute on
            fake.calls.clear()
            for _ in range(5):
                await settle(harness)
            assert [len(posts(fake, text)) for text in texts] == [1] * len(texts)
            assert {r.status for r in await rows(harness)} == {"sent"}
            reads = [c for c in fake.calls if c.method == "conversations.history"]
            assert len(reads) == 1, f"{len(reads)} reads of the channel for 30 resends"


async def test_a_quick_restart_looks_for_a_post_only_once_it_may_have_landed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: a start frees the claims a killed process left in the file. That process may
    have sent its post a moment before it died, and Slack apply it a little later; a restart
    that looked at once would not see it yet and post again. The freed row is due only once
    the post has landed (``LANDS``): the look finds it, and the welcome is in the channel once."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: a stopped process's claim is taken once its lease has passed")
    monkeypatch.setattr(bot.core.outbox, "SEND_TIMEOUT", timedelta(seconds=60))  # not cut
    async with FakeSlack(validate=require_validator(), ack_deadline=2.0) as fake:
        killed = on_slack(database_url, fake)
        land = asyncio.Event()
        fake.faults.stall_before("chat.postMessage", land.wait, channel=fake.general().id)
        async with killed:
            await queue(killed, "welcome")
            await killed.app.dispatcher.deliverer.run_due()
            await until(lambda: fake.calls_to("chat.postMessage"), "the post on its way")
            await killed.app.dispatcher.deliverer.close()  # killed: it records nothing more
        [row] = await rows(killed)
        assert (row.status, row.claimed_by) == ("pending", killed.app.dispatcher.deliverer.me)
        restarted = on_slack(database_url, fake)  # at once: the same instant
        async with restarted:
            await settle(restarted)
            assert len(fake.calls_to("chat.postMessage")) == 1  # not posted again yet
            land.set()  # Slack applies the killed process's post, within LANDS
            await until(lambda: posts(fake, "welcome"), "the killed process's post in the channel")
            for _ in range(3):
                restarted.clock.advance(LANDS)
                await settle(restarted)
            await welcomed_once(fake, restarted)


async def test_a_look_cut_at_the_send_timeout_leaves_the_row_to_look_again(
    database_url: str,
) -> None:
    """A resend looks in the channel's history for its earlier try's post first. Slack slow
    to answer that read (past the send timeout) cuts the try: the row stays pending, still
    marked as maybe sent, so the next try looks again (it never posts blind), finds the
    post, and posts nothing."""
    async with FakeSlack(validate=require_validator(), ack_deadline=2.0) as fake:
        harness = on_slack(database_url, fake)
        async with harness:
            await queue(harness, "welcome")
            # What a killed process got out before it died: the post, and the row marked tried.
            [row] = await rows(harness)
            await slack_port(fake).send(
                harness.channel, Message(text="welcome"), key=row.idempotency_key
            )
            async with harness.app.db.uow() as uow:
                tried = await uow.session.get_one(OutboxItem, row.id)
                tried.attempted_at = harness.clock.now()
                await uow.commit()
            answer = asyncio.Event()
            fake.faults.stall_before("conversations.history", answer.wait)
            await settle(harness)
            [row] = await rows(harness)
            assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
            assert row.attempted_at is not None  # the next try looks first
            assert f"no answer within {SEND_TIMEOUT:g} s" == row.last_error
            assert len(posts(fake, "welcome")) == 1  # nothing posted blind
            answer.set()  # the cut read answers, to nobody
            harness.clock.advance(timedelta(seconds=3))  # past the retry's 2 s
            await settle(harness)
            assert len(fake.calls_to("conversations.history")) == 2  # looked again
            await welcomed_once(fake, harness)


async def test_a_start_frees_a_stopped_processs_claims_once_what_they_sent_has_landed(
    database_url: str,
) -> None:
    """The rows a start frees (``free_claims``, on SQLite) are due ``LANDS`` on, or when their
    lease ends if that is sooner (whatever their try sent had landed by then); a row this
    process holds keeps its claim."""
    harness = Harness(database_url, [Steward(), Garden()])
    async with harness:
        await queue(harness, "long lease", "lease nearly over", "mine")
        now = harness.clock.now()
        leases = {
            "long lease": ("stopped", LEASE),
            "lease nearly over": ("stopped", timedelta(seconds=1)),
            "mine": (harness.app.dispatcher.deliverer.me, LEASE),
        }
        async with harness.app.db.uow() as uow:
            for row in await uow.session.scalars(select(OutboxItem)):
                claimer, lease = leases[row.payload["text"]]
                row.claimed_by, row.due_at, row.attempted_at = claimer, now + lease, now
            await uow.commit()
        assert await harness.app.dispatcher.deliverer.free_claims() == 2
        found = {r.payload["text"]: (r.claimed_by, r.due_at - now) for r in await rows(harness)}
        assert found == {
            "long lease": (None, LANDS),
            "lease nearly over": (None, timedelta(seconds=1)),
            "mine": (harness.app.dispatcher.deliverer.me, LEASE),
        }
