"""The announcements feature: managers point Steward at a brand's feeds (sources half)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from aiohttp.abc import AbstractResolver

from bot.core import (
    Attachment,
    ChannelRef,
    CommandContext,
    Context,
    Feature,
    FeatureSettings,
    JobContext,
    Level,
    Message,
    Runtime,
    UserError,
    UserRef,
    command,
    job,
    plural,
)
from cogs.announcements import _texts as texts
from cogs.announcements._checks import MAX_FEEDS
from cogs.announcements._checks import can_post as _can_post
from cogs.announcements._checks import find_source as _find
from cogs.announcements._deliver import record_outcomes
from cogs.announcements._discover import known_feed
from cogs.announcements._fetch import Fetcher, FetchError, Limits, check_url
from cogs.announcements._guard import AddressPolicy
from cogs.announcements._identity import FirstFetch, decide
from cogs.announcements._models import AnnouncementFeed
from cogs.announcements._opml import export, feed_urls
from cogs.announcements._push import WebSubSubscriptions
from cogs.announcements._repo import Repo
from cogs.announcements._schedule import SchedulePolicy, first_poll
from cogs.announcements._service import Poller, policy_of
from cogs.announcements._source import find_feed, read_feed
from cogs.announcements._webhooks import WebhookCommands
from cogs.announcements._xmlsafe import UnsafeXml

Ctx = CommandContext[FeatureSettings]


class Announcements(WebhookCommands, WebSubSubscriptions, Feature, name="announcements"):
    """Bring a brand's feeds into the community, safely and cheaply."""

    port_calls = frozenset({"channels"})

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        resolver: AbstractResolver | None = None,
        schedule: SchedulePolicy | None = None,
    ) -> None:
        super().__init__()
        # One fetcher for every community: its per-host limit is politeness towards publishers.
        # The public internet only, until ``attach`` adds the networks the config allows.
        self.fetcher = Fetcher(AddressPolicy(), limits=limits, resolver=resolver)
        self.schedule = schedule or SchedulePolicy()

    def attach(self, runtime: Runtime) -> None:
        """Follow the process config: the networks allowed besides the public internet, and
        the minimum poll interval."""
        self.runtime = runtime
        self.fetcher.policy = AddressPolicy.allowing(runtime.options.fetch_allow)
        self.schedule = replace(self.schedule, minimum=runtime.options.min_poll_interval)

    async def on_unload(self) -> None:
        """Close the fetcher's connections."""
        await self.fetcher.close()

    async def forget_member(self, ctx: Context[FeatureSettings], user: UserRef) -> None:
        """The feeds a member added stop naming them."""
        await Repo(ctx.uow.session, ctx.community).forget_manager(user.id)

    @job(every=timedelta(minutes=1))
    async def poll(self, ctx: JobContext[FeatureSettings]) -> None:
        """Poll the community's due feeds, post what is new, log what became of earlier posts."""
        await Poller(ctx, self.fetcher, self.schedule).run()
        await ctx.commit()  # the posts go out once this commits; then the log learns their fate
        await record_outcomes(ctx)

    @command("add", requires=Level.ADMIN)
    async def add(
        self,
        ctx: Ctx,
        url: Annotated[str, "The feed's web address"],
        channel: Annotated[ChannelRef, "Where its items go"],
        first: Annotated[str, "On the first fetch post: nothing (default) or newest"] = "nothing",
    ) -> None:
        """Follow a feed: its new items go to a channel."""
        address = texts.clean_url(url)
        _checked(known_feed(address) or address)
        if first not in (FirstFetch.NOTHING, FirstFetch.NEWEST):
            raise UserError("`first` is either `nothing` or `newest`.")
        await _can_post(ctx, channel)
        repo = Repo(ctx.uow.session, ctx.community)
        if await repo.count() >= MAX_FEEDS:
            raise UserError(f"This community already follows {MAX_FEEDS} feeds, my limit.")
        check, reading = await find_feed(self.fetcher, address)
        if reading.feed is None or reading.fetched is None:
            raise UserError(texts.problem_text(address, reading.error))
        if await repo.by_url(check) is not None:
            raise UserError(f"I already follow {check}: see `/announcements list`.")
        now = ctx.clock.now()
        row = self._new_row(ctx, check, channel, reading.feed.title, first)
        repo.add(row)
        await ctx.uow.session.flush()
        poller = Poller(ctx, self.fetcher, self.schedule)
        await poller.apply(row, reading, now)
        pushed = await self.subscribe_if_hub(ctx, row, reading.fetched.body or b"", check)
        await ctx.reply(texts.added_text(row, reading.feed, channel) + pushed)

    @command("list", requires=Level.ADMIN)
    async def list_feeds(self, ctx: Ctx) -> None:
        """See the feeds this community follows and how each is doing."""
        rows = await Repo(ctx.uow.session, ctx.community).feeds()
        await ctx.reply(texts.list_text(rows))

    @command("remove", requires=Level.ADMIN)
    async def remove(self, ctx: Ctx, feed: Annotated[str, "The feed's number or address"]) -> None:
        """Stop following a feed and forget what it had shown."""
        repo = Repo(ctx.uow.session, ctx.community)
        row = await _find(repo, feed)
        await repo.remove(row)
        await ctx.reply(f"Removed feed {row.id} ({row.url}). Its items will not be posted anymore.")

    @command("pause", requires=Level.ADMIN)
    async def pause(self, ctx: Ctx, feed: Annotated[str, "The feed's number or address"]) -> None:
        """Stop polling a feed for now; resume it when you like."""
        row = await _find(Repo(ctx.uow.session, ctx.community), feed)
        row.paused, row.paused_reason = True, f"paused by a manager on {ctx.clock.now():%Y-%m-%d}"
        await ctx.reply(f"Paused feed {row.id}. `/announcements resume {row.id}` starts it again.")

    @command("resume", requires=Level.ADMIN)
    async def resume(self, ctx: Ctx, feed: Annotated[str, "The feed's number or address"]) -> None:
        """Start polling a paused feed again (items that came meanwhile are posted)."""
        row = await _find(Repo(ctx.uow.session, ctx.community), feed)
        row.paused, row.paused_reason, row.failures = False, None, 0
        row.next_poll_at = ctx.clock.now()
        await ctx.reply(f"Resumed feed {row.id}: I'll check it within a minute.")

    @command("set", requires=Level.ADMIN)
    async def tune(
        self,
        ctx: Ctx,
        feed: Annotated[str, "The feed's number or address"],
        every: Annotated[timedelta | None, "How often to check it, like 30m"] = None,
        max_age: Annotated[timedelta | None, "Skip new items older than this, like 2d"] = None,
        compare: Annotated[str | None, "Post an item again when these change, or none"] = None,
    ) -> None:
        """Tune a feed: how often it is checked, the oldest item worth posting, edits."""
        row = await _find(Repo(ctx.uow.session, ctx.community), feed)
        if every is not None:
            if every < self.schedule.minimum:
                least = int(self.schedule.minimum.total_seconds() // 60)
                raise UserError(f"I check a feed at most every {plural(least, 'minute')}.")
            row.interval_s = int(every.total_seconds())
            row.next_poll_at = min(row.next_poll_at, ctx.clock.now() + every)
        if max_age is not None:
            row.max_age_s = int(max_age.total_seconds()) or None
        if compare is not None:
            row.compare = ",".join(texts.compare_fields(compare))
        await ctx.reply(texts.tuned_text(row))

    @command("check", requires=Level.ADMIN)
    async def check(
        self, ctx: Ctx, feed: Annotated[str, "A feed's number, or any feed address"]
    ) -> None:
        """Fetch a feed now and see privately what Steward finds and would post."""
        repo = Repo(ctx.uow.session, ctx.community)
        row = await _find(repo, feed) if feed.strip().isdigit() else None
        row = row or await repo.by_url(texts.clean_url(feed))
        if row is not None and row.kind == "webhook":
            raise UserError(f"{row.id} is a webhook: its items come when the sender posts them.")
        url = row.url if row else _checked(texts.clean_url(feed))
        reading = await read_feed(self.fetcher, url)
        if reading.feed is None or reading.fetched is None:
            raise UserError(texts.problem_text(url, reading.error))
        text = texts.found_text(reading.feed, reading.fetched.url)
        if row is not None:
            verdict = decide(
                reading.feed.items,
                await repo.seen(row.id),
                policy_of(row),
                ctx.clock.now(),
                first=not row.primed,
            )
            text += "\n" + texts.would_post_text(verdict, await repo.log_of(row.id))
        await ctx.reply(text)

    @command("export", requires=Level.ADMIN)
    async def export_feeds(self, ctx: Ctx) -> None:
        """Get the community's feeds as an OPML file, for a feed reader or another Steward."""
        rows = [r for r in await Repo(ctx.uow.session, ctx.community).feeds() if r.kind == "feed"]
        if not rows:  # webhooks are not feeds a reader could follow
            raise UserError("There are no feeds to export yet: add one with `/announcements add`.")
        data = export("Steward announcements", [(r.title, r.url) for r in rows])
        await ctx.reply(
            Message(
                text=f"{plural(len(rows), 'feed')}, as OPML.",
                files=(Attachment("announcements.opml", data, "Feeds as OPML"),),
            )
        )

    @command("import", requires=Level.ADMIN)
    async def import_feeds(
        self,
        ctx: Ctx,
        opml: Annotated[str, "The web address of an OPML file"],
        channel: Annotated[ChannelRef, "Where the feeds' items go"],
    ) -> None:
        """Follow every feed of an OPML file (each starts quietly: nothing old is posted)."""
        await _can_post(ctx, channel)
        try:
            fetched = await self.fetcher.get(_checked(texts.clean_url(opml)))
            urls = feed_urls(fetched.body or b"")
        except FetchError as exc:
            raise UserError(texts.problem_text(opml, exc)) from exc
        except UnsafeXml as exc:
            raise UserError(
                f"{texts.clean_url(opml)[:200]} is not an OPML file I can read."
            ) from exc
        repo = Repo(ctx.uow.session, ctx.community)
        known = {r.url for r in await repo.feeds()}
        room = MAX_FEEDS - len(known)
        added, skipped = texts.import_plan(urls, known, room)
        for url in added:
            repo.add(self._new_row(ctx, url, channel, "", FirstFetch.NOTHING))
        await ctx.reply(texts.imported_text(added, skipped))

    def _new_row(
        self, ctx: Ctx, url: str, channel: ChannelRef, title: str, first: str
    ) -> AnnouncementFeed:
        now = ctx.clock.now()
        return AnnouncementFeed(
            community_id=ctx.community.key,
            url=url,
            channel_id=channel.id,
            title=title[:256],
            added_by=ctx.actor.ref.id,
            added_at=now,
            first_fetch=first,
            compare="",
            paused=False,
            failures=0,
            primed=False,
            next_poll_at=first_poll(now, url, self.schedule.clamp(None)),
        )


def _checked(url: str) -> str:
    try:
        return str(check_url(url))
    except FetchError as exc:
        raise UserError(texts.problem_text(url, exc)) from exc
