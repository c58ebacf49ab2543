"""The announcements feature: managers point Steward at a brand's feeds (sources half)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from aiohttp.abc import AbstractResolver

from bot.core import (
    AttachedFile,
    ChannelRef,
    CommandContext,
    Context,
    Destination,
    Feature,
    FeatureSettings,
    JobContext,
    Level,
    RoleRef,
    Runtime,
    UserError,
    UserRef,
    command,
    job,
    on,
    plural,
)
from bot.core.guard import AddressPolicy
from bot.core.parsing import format_duration
from cogs.announcements import _admin, _preview
from cogs.announcements import _texts as texts
from cogs.announcements._checks import MAX_FEEDS
from cogs.announcements._checks import can_post as _can_post
from cogs.announcements._checks import find_source as _find
from cogs.announcements._deliver import WAITING, delivery_key, record_outcomes
from cogs.announcements._discover import known_feed
from cogs.announcements._fetch import Fetcher, FetchError, Limits
from cogs.announcements._identity import FirstFetch
from cogs.announcements._limits import parse_cap
from cogs.announcements._models import AnnouncementFeed
from cogs.announcements._push import WebSubSubscriptions
from cogs.announcements._repo import Repo
from cogs.announcements._routes import RouteSpec, add_route, routes_text, set_route
from cogs.announcements._schedule import SchedulePolicy, first_poll
from cogs.announcements._service import Poller
from cogs.announcements._source import find_feed
from cogs.announcements._stats import note, posted_since, stats_text
from cogs.announcements._webhooks import WebhookCommands
from cogs.announcements.events import AnnouncementEngagement

Ctx = CommandContext[FeatureSettings]


class Announcements(WebhookCommands, WebSubSubscriptions, Feature, name="announcements"):
    """Bring a brand's feeds into the community, safely and cheaply."""

    port_calls = frozenset({"channels", "crosspost", "forum"})

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

    @on(AnnouncementEngagement)
    async def engaged(self, ctx: Context[FeatureSettings], told: AnnouncementEngagement) -> None:
        """Engagement counted a post's conversation again: keep the counts for the stats."""
        await note(ctx.uow.session, ctx.community, told)

    @command("stats", requires=Level.ADMIN)
    async def stats(
        self,
        ctx: Ctx,
        period: Annotated[timedelta | None, "How far back, like 7d (default 30d)"] = None,
    ) -> None:
        """See which announcements and sources started conversations."""
        span = period or timedelta(days=30)
        if span > timedelta(days=366) or span <= timedelta(0):
            raise UserError("Pick a period from 1 hour to 366 days, like 7d.")
        posts = await posted_since(ctx.uow.session, ctx.community, ctx.clock.now() - span)
        await ctx.reply(stats_text(posts, format_duration(span)))

    @command("log", requires=Level.ADMIN)
    async def show_log(
        self, ctx: Ctx, feed: Annotated[str | None, "Only this feed (number or address)"] = None
    ) -> None:
        """See what became of each item in each destination: posted, waiting, skipped, failed."""
        repo = Repo(ctx.uow.session, ctx.community)
        row = await _find(repo, feed) if feed else None
        rows = await repo.log_of(row.id if row else None, limit=20)
        routes = await repo.routes()
        await ctx.commit()  # asking the outbox reads in a transaction of its own
        fates = {r.id: await ctx.delivery(delivery_key(r)) for r in rows if r.outcome in WAITING}
        await ctx.reply(_preview.log_text(rows, routes, fates))

    @command("preview", requires=Level.ADMIN)
    async def preview_route(self, ctx: Ctx, route: Annotated[int, "The route's number"]) -> None:
        """See privately the feed's latest item exactly as a route would post it."""
        await _preview.preview(ctx, self.fetcher, route)

    @command("test", requires=Level.ADMIN)
    async def test_route(self, ctx: Ctx, route: Annotated[int, "The route's number"]) -> None:
        """Post the feed's latest item through a route for real (once), discussion and all."""
        await _preview.test_post(ctx, self.fetcher, route)

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
        """Follow a feed: its new items go to a channel, each opening a discussion."""
        address = texts.clean_url(url)
        _admin.checked(known_feed(address) or address)
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
        row = self._new_row(ctx, check, reading.feed.title, first)
        repo.add(row)
        await ctx.uow.session.flush()
        await add_route(ctx, repo, row, RouteSpec(channel))
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
        await ctx.reply(await _admin.check_text(ctx, self.fetcher, feed))

    @command("route add", requires=Level.ADMIN)
    async def route_add(
        self,
        ctx: Ctx,
        feed: Annotated[str, "The feed's number or address"],
        channel: Annotated[Destination, "Where its items go (a forum too)"],
        filter: Annotated[str, "Which items, like: title contains 'launch'"] = "",
        template: Annotated[str, "The post's text, like {summary|truncate:200}"] = "",
        style: Annotated[str, "embed (default) or text"] = "embed",
        mention: Annotated[RoleRef | None, "A role (Slack: user group) each post pings"] = None,
        discussion: Annotated[str, "thread (default): each post opens one; or none"] = "thread",
        opening: Annotated[str | None, "The first line of each discussion"] = None,
        crosspost: Annotated[bool, "Publish each post to following servers (Discord)"] = False,
        tags: Annotated[str, "Forum tags by filter, like: News; Release: title contains 'v'"] = "",
        cap: Annotated[str, "At most so many posts, like: 5 per hour (the rest: one post)"] = "",
    ) -> None:
        """Send a feed's items to one more channel, with its own filter, look and discussion."""
        repo = Repo(ctx.uow.session, ctx.community)
        row = await _find(repo, feed)
        await _can_post(ctx, channel)
        spec = RouteSpec(
            channel, filter, template, style, mention, discussion, opening, crosspost, tags
        )
        limit = parse_cap(cap) if cap.strip() else None
        await ctx.reply(await add_route(ctx, repo, row, spec, limit))

    @command("route set", requires=Level.ADMIN)
    async def route_set(
        self,
        ctx: Ctx,
        route: Annotated[int, "The route's number"],
        field: Annotated[
            str, "filter, template, style, mention, discussion, opening, crosspost, tags or cap"
        ],
        value: Annotated[str, "The new value (none clears a filter, template, mention, tags, cap)"],
    ) -> None:
        """Change one setting of a route, checked as when it was added."""
        repo = Repo(ctx.uow.session, ctx.community)
        await ctx.reply(await set_route(ctx, repo, route, field, value))

    @command("route list", requires=Level.ADMIN)
    async def route_list(self, ctx: Ctx) -> None:
        """See where each feed's items go, which ones, and how."""
        repo = Repo(ctx.uow.session, ctx.community)
        await ctx.reply(routes_text(await repo.routes(), await repo.feeds()))

    @command("route remove", requires=Level.ADMIN)
    async def route_remove(self, ctx: Ctx, route: Annotated[int, "The route's number"]) -> None:
        """Stop sending a feed's items to one destination (the feed stays followed)."""
        repo = Repo(ctx.uow.session, ctx.community)
        found = await repo.route(route)
        if found is None:
            raise UserError(f"There is no route {route}: see `/announcements route list`.")
        await repo.remove_route(found)
        await ctx.reply(f"Removed route {route}; its channel gets no more of feed {found.feed_id}.")

    @command("route resume", requires=Level.ADMIN)
    async def route_resume(self, ctx: Ctx, route: Annotated[int, "The route's number"]) -> None:
        """Post to a route again after fixing what paused it (a permission, the channel)."""
        repo = Repo(ctx.uow.session, ctx.community)
        found = await repo.route(route)
        if found is None:
            raise UserError(f"There is no route {route}: see `/announcements route list`.")
        if not found.paused:
            await ctx.reply(f"Route {route} isn't paused: its items go to <#{found.channel_id}>.")
            return
        found.paused, found.paused_reason = False, None
        await ctx.reply(
            f"Route {route} resumes: new items go to <#{found.channel_id}> again. Items skipped "
            "while it was paused stay skipped (see `/announcements log`)."
        )

    @command("export", requires=Level.ADMIN)
    async def export_feeds(self, ctx: Ctx) -> None:
        """Get the community's feeds as an OPML file, for a feed reader or another Steward."""
        await ctx.reply(await _admin.opml_export(ctx))

    @command("import", requires=Level.ADMIN)
    async def import_feeds(
        self,
        ctx: Ctx,
        opml: Annotated[str | None, "The web address of an OPML file"] = None,
        channel: Annotated[ChannelRef | None, "Where the feeds' items go"] = None,
        file: Annotated[AttachedFile | None, "An OPML file, instead of its address"] = None,
    ) -> None:
        """Follow every feed of an OPML file (each starts quietly: nothing old is posted)."""
        if channel is None:
            raise UserError("Say which channel the feeds' items go to, like `#announcements`.")
        await _can_post(ctx, channel)
        urls = await _admin.opml_urls(self.fetcher, opml, file)
        repo = Repo(ctx.uow.session, ctx.community)
        known = {r.url for r in await repo.feeds()}
        added, skipped = texts.import_plan(urls, known, MAX_FEEDS - len(known))
        # Feeds that name a WebSub hub are subscribed as `add` does: one fetch each, side by side.
        bodies = await asyncio.gather(*(self._body_of(url) for url in added))
        pushed = 0
        for url, body in zip(added, bodies, strict=True):
            row = self._new_row(ctx, url, "", FirstFetch.NOTHING)
            repo.add(row)
            await ctx.uow.session.flush()
            await add_route(ctx, repo, row, RouteSpec(channel))
            if body and (await self.subscribe_at_hub(ctx, row, body, url))[1]:
                pushed += 1
        await ctx.reply(texts.imported_text(added, skipped, pushed))

    async def _body_of(self, url: str) -> bytes:
        """A feed's document, to find its hub in (b"": it could not be fetched now)."""
        try:
            return (await self.fetcher.get(url)).body or b""
        except FetchError:
            return b""

    def _new_row(self, ctx: Ctx, url: str, title: str, first: str) -> AnnouncementFeed:
        now = ctx.clock.now()
        return AnnouncementFeed(
            community_id=ctx.community.key,
            url=url,
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
