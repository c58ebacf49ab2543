"""Seeing a route at work: a private preview of the latest item, a real test post, the log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.core import ChannelRef, CommandContext, FeatureSettings, UserError
from bot.core.outbox import Delivery
from bot.core.templates import neutralize_pings
from cogs.announcements import _texts as texts
from cogs.announcements._deliver import delivery_key, look_of, stopped_by
from cogs.announcements._fetch import Fetcher
from cogs.announcements._items import Item
from cogs.announcements._models import AnnouncementFeed, AnnouncementLog, AnnouncementRoute
from cogs.announcements._render import post
from cogs.announcements._repo import Repo
from cogs.announcements._source import read_feed

Ctx = CommandContext[FeatureSettings]
OUTCOMES = {
    "pending": "waiting to be posted",
    "edited": "waiting to be posted again (edited)",
    "opening": "posted (opening its discussion)",
    "posted": "posted",
    "filtered": "filtered",
    "skipped": "skipped",
    "failed": "failed",
}


async def _route_and_item(
    ctx: Ctx, fetcher: Fetcher, route_id: int
) -> tuple[Repo, AnnouncementRoute, AnnouncementFeed, Item]:
    repo = Repo(ctx.uow.session, ctx.community)
    route = await repo.route(route_id)
    feed = await repo.feed(route.feed_id) if route is not None else None
    if route is None or feed is None:
        raise UserError(f"There is no route {route_id}: see `/announcements route list`.")
    await ctx.commit()  # no transaction stays open while the feed answers
    reading = await read_feed(fetcher, feed.url)
    if reading.feed is None:
        raise UserError(texts.problem_text(feed.url, reading.error))
    if not reading.feed.items:
        raise UserError(f"{feed.url[:200]} has no items yet: there is nothing to show.")
    return repo, route, feed, reading.feed.items[0]


async def preview(ctx: Ctx, fetcher: Fetcher, route_id: int) -> None:
    """Show the invoker, privately, the feed's latest item exactly as the route would post it."""
    _, route, feed, item = await _route_and_item(ctx, fetcher, route_id)
    tz = (await ctx.community_settings()).tz()
    shown = post(item, feed.title or feed.url, tz, look_of(route, ctx.community))
    why = stopped_by(route, item, feed.title or feed.url)
    verdict = "It passes the route's filter." if why is None else f"Its filter stops it: {why}."
    note = f"Route {route.id} would post this in <#{route.channel_id}>. {verdict}"
    if await ctx.port.forum(ChannelRef(ctx.community, route.channel_id)) is not None:
        tags = ", ".join(shown.post_tags) or "none"
        named = texts.shown_title(shown.post_name or "")
        note += f" It opens a forum post named “{named}” (tags: {tags})."
    # A preview pings nobody, not even the route's role.
    await ctx.reply(neutralize_pings(note))
    await ctx.reply(replace(shown, ping_roles=frozenset()))


async def test_post(ctx: Ctx, fetcher: Fetcher, route_id: int) -> None:
    """Post the latest item through the route for real, once (it opens its discussion too)."""
    repo, route, feed, item = await _route_and_item(ctx, fetcher, route_id)
    tz = (await ctx.community_settings()).tz()
    source = feed.title or feed.url
    [entry] = repo.log(feed.id, [item], "pending", ctx.clock.now(), "test post", route.id)
    channel = ChannelRef(ctx.community, route.channel_id)
    message = post(item, source, tz, look_of(route, ctx.community))
    title = texts.shown_title(item.title[:100])
    if not await ctx.deliver(channel, message, key=delivery_key(entry)):
        await repo.session.delete(entry)
        raise UserError(
            neutralize_pings(f"Route {route.id} already posted “{title}”: nothing to test.")
        )
    await ctx.reply(neutralize_pings(f"Posting “{title}” in <#{route.channel_id}> now, once."))


def _when(at: datetime) -> str:
    return f"{at:%m-%d %H:%M}"


def waiting_text(fate: Delivery | None) -> str | None:
    """What became of a post handed to the outbox, as the outbox knows it before the log does:
    posted, failed, waiting on the platform's limit for its channel (its turn, or a 429
    answered), or waiting to be tried again after an error; None: nothing known."""
    if fate is None:
        return None
    if fate.status == "sent":
        return "posted"
    if fate.status == "failed":
        return f"failed ({fate.reason or 'the platform refused'})"
    if fate.reason is None or "429" in fate.reason or "rate" in fate.reason.lower():
        return "waiting (rate limit)"
    return f"waiting to be tried again ({fate.reason})"


def log_text(
    rows: Sequence[AnnouncementLog],
    routes: Sequence[AnnouncementRoute],
    fates: Mapping[int, Delivery | None] | None = None,
) -> str:
    """The delivery log: per item and destination, what became of it and why (``fates``: the
    outbox's word on rows still waiting, by log row)."""
    if not rows:
        return "The log is empty: nothing was posted, filtered or skipped yet."
    where = {r.id: f"route {r.id} (<#{r.channel_id}>)" for r in routes}
    lines = []
    for row in rows:
        to = f" → {where.get(row.route_id, 'a removed route')}" if row.route_id else ""
        outcome = OUTCOMES.get(row.outcome, row.outcome)
        reason = f" ({row.reason})" if row.reason else ""
        waiting = waiting_text((fates or {}).get(row.id))
        if waiting is not None:
            outcome, reason = waiting, " (edited)" if row.outcome == "edited" else ""
        title = texts.shown_title(row.title)
        lines.append(f"• {_when(row.at)} feed {row.feed_id} “{title}”{to}: {outcome}{reason}")
    return neutralize_pings("\n".join(lines))
