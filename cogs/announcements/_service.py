"""Polling a community's due feeds: fetch, decide what is new, store, and hand items over."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core import Context, FeatureSettings, Message, UserRef
from cogs.announcements._deliver import hand_over
from cogs.announcements._fetch import Fetcher, Validators
from cogs.announcements._identity import FirstFetch, Policy, Verdict, decide
from cogs.announcements._items import Item
from cogs.announcements._models import AnnouncementFeed
from cogs.announcements._repo import Repo
from cogs.announcements._schedule import SchedulePolicy, after_failure, after_success
from cogs.announcements._source import Reading, read_feed
from cogs.announcements._texts import paused_notice

POLLS_PER_RUN = 50
POLL_LEASE = timedelta(minutes=5)
"""A claimed feed is polled by this process alone for this long (a fetch gives up after 30 s);
if the process dies meanwhile, another one polls the feed once the lease has passed."""


def policy_of(row: AnnouncementFeed) -> Policy:
    """The dedupe policy a manager set on a feed."""
    compare = tuple(f for f in row.compare.split(",") if f)
    max_age = timedelta(seconds=row.max_age_s) if row.max_age_s else None
    return Policy(FirstFetch(row.first_fetch), compare, max_age)


class Poller:
    """Polls feeds for one community inside the job's unit of work."""

    def __init__(
        self, ctx: Context[FeatureSettings], fetcher: Fetcher, schedule: SchedulePolicy
    ) -> None:
        self.ctx = ctx
        self.repo = Repo(ctx.uow.session, ctx.community)
        self.fetcher = fetcher
        self.schedule = schedule
        self.rng = random.Random()

    async def run(self) -> int:
        """Poll every due feed (at most POLLS_PER_RUN); returns how many items were handed over."""
        now = self.ctx.clock.now()
        due = await self.repo.due(now, POLLS_PER_RUN, POLL_LEASE)
        # The claim commits now: no transaction stays open while the network answers (up to
        # 30 s), and other processes see these feeds taken.
        await self.ctx.commit()
        # The network waits happen side by side; the fetcher's per-host limit keeps it polite.
        readings = await asyncio.gather(*(self._read(row) for row in due))
        handed = 0
        for row, reading in zip(due, readings, strict=True):
            handed += await self.apply(row, reading, now)
        return handed

    async def _read(self, row: AnnouncementFeed) -> Reading:
        return await read_feed(self.fetcher, row.url, Validators(row.etag, row.last_modified))

    async def apply(self, row: AnnouncementFeed, reading: Reading, now: datetime) -> int:
        """Store one poll's outcome on the feed's row; returns the items handed over."""
        interval = timedelta(seconds=row.interval_s) if row.interval_s else None
        if reading.error is not None:
            plan = after_failure(
                now,
                row.failures,
                self.schedule,
                self.rng,
                interval=interval,
                retry_after=reading.error.retry_after,
            )
            row.failures, row.next_poll_at = plan.failures, plan.next_at
            row.last_error = reading.error.explain()
            if plan.disable:
                row.paused = True
                row.paused_reason = paused_notice(row.url, plan.failures, reading.error)
                await self.tell_paused(row, now)
                self.ctx.log.warning("feed %s paused after %s failures", row.id, plan.failures)
            return 0
        fetched = reading.fetched
        assert fetched is not None
        fresh = after_success(
            now, self.schedule, self.rng, interval=interval, fresh_for=fetched.fresh_for
        )
        row.failures, row.next_poll_at, row.last_ok_at, row.last_error = 0, fresh.next_at, now, None
        row.etag, row.last_modified = fetched.validators.etag, fetched.validators.last_modified
        if reading.feed is None:
            return 0  # 304: nothing new
        if reading.feed.title and not row.title:
            row.title = reading.feed.title
        verdict = await self.judge(row, reading, now)
        return len(verdict.post) + len(verdict.changed)

    async def tell_paused(self, row: AnnouncementFeed, now: datetime) -> None:
        """The staff (and the manager who added the feed) hear of a pause, in its transaction."""
        notice = row.paused_reason or ""
        # Written with the pause itself: told once per pause, even if Steward stops right after.
        key = f"paused:{row.id}:{now:%Y%m%dT%H%M%S}"
        await self.ctx.alert_staff(f"Announcements: {notice}", key=key)
        if row.added_by:  # empty once that manager asked to be forgotten
            manager = UserRef(self.ctx.community, row.added_by)
            await self.ctx.deliver(manager, Message(text=notice), key=f"{key}:dm")

    async def judge(self, row: AnnouncementFeed, reading: Reading, now: datetime) -> Verdict:
        """Decide what is new, store the seen map and the delivery log, hand items over."""
        assert reading.feed is not None
        return await take_items(self.ctx, row, reading.feed.items, now)


async def take_items(
    ctx: Context[FeatureSettings], row: AnnouncementFeed, items: Sequence[Item], now: datetime
) -> Verdict:
    """Decide which of a source's items are new, store the seen map and the delivery log, and
    hand the new ones over (polled feeds and pushed webhooks alike)."""
    repo = Repo(ctx.uow.session, ctx.community)
    before = await repo.seen(row.id)
    verdict = decide(items, before, policy_of(row), now, first=not row.primed)
    await repo.remember(row.id, before, verdict.seen, now)
    row.primed = True
    # Handed to the outbox in this transaction: posted once it commits, never twice.
    await hand_over(ctx, repo, row, verdict.post, verdict.changed, now)
    for item, why in verdict.skipped:
        if why.name != "FIRST_FETCH":  # the first fetch's backlog is summarised, not logged
            repo.log(row.id, [item], "skipped", now, why.value)
    return verdict
