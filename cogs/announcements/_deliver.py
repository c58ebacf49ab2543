"""Posting a feed's items to its routes through the outbox, opening their discussions, and
writing back in the log what became of each (item, route)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.core import (
    ChannelRef,
    CommunityRef,
    Context,
    FeatureSettings,
    Message,
    MessageRef,
    RoleRef,
)
from bot.core.templates import neutralize_pings
from cogs.announcements._filters import FilterError, explain, parse
from cogs.announcements._items import Item
from cogs.announcements._limits import blocking, over_cap_reason, pause_if_refused, room, summary
from cogs.announcements._models import AnnouncementFeed, AnnouncementLog, AnnouncementRoute
from cogs.announcements._plain import visible
from cogs.announcements._render import Look, filter_values, post, thread_name
from cogs.announcements._repo import Repo
from cogs.announcements._tags import read_stored
from cogs.announcements.events import AnnouncementPosted

WAITING = ("pending", "edited", "opening")
"""Log outcomes whose end the log does not know yet: handed to the outbox (``pending``,
``edited``), or posted with the discussion still to open (``opening``: written with the post's
fate, so a crash before the discussion opened opens it on the next pass)."""
log = logging.getLogger("steward.announcements")


def delivery_key(entry: AnnouncementLog) -> str:
    """The outbox key of a log row: one post per item and route, one more per edit logged."""
    base = f"ann:{entry.feed_id}:{entry.item_key}"
    if entry.route_id is not None:
        base += f":r{entry.route_id}"
    return base if entry.outcome in ("pending", "opening") else f"{base}:edit:{entry.id}"


def look_of(route: AnnouncementRoute, community: CommunityRef, edited: bool = False) -> Look:
    """How a route shows items."""
    role = RoleRef(community, route.mention_role_id) if route.mention_role_id else None
    return Look(route.style, route.template, role, edited, read_stored(route.tags))


def stopped_by(route: AnnouncementRoute, item: Item, source: str) -> str | None:
    """Why a route's filter stops an item (None: it passes)."""
    try:
        found = parse(route.filter)
    except FilterError:
        return "its filter no longer reads; remove the route and add it again"
    if found is None:
        return None
    passed, why = explain(found, filter_values(item, source))
    return None if passed else why


async def hand_over(
    ctx: Context[FeatureSettings],
    repo: Repo,
    feed: AnnouncementFeed,
    new: Sequence[Item],
    changed: Sequence[Item],
    now: datetime,
) -> int:
    """Queue a post per (item, route) that passes the route's filter, in the caller's
    transaction (sent once it commits); log what each filter stopped. Returns posts queued."""
    routes = await repo.routes(feed.id)
    if not routes or not (new or changed):
        return 0
    tz = (await ctx.community_settings()).tz()
    source = feed.title or feed.url
    queued: list[tuple[AnnouncementLog, Message]] = []
    summaries: list[tuple[AnnouncementRoute, list[AnnouncementLog], list[Item]]] = []
    for route in routes:
        passing: list[tuple[Item, str]] = []
        for items, outcome in ((new, "pending"), (changed, "edited")):
            for item in items:
                if route.paused:
                    held = f"route {route.id} is paused: {route.paused_reason or 'refused'}"
                    repo.log(feed.id, [item], "skipped", now, held, route.id)
                    continue
                why = stopped_by(route, item, source)
                if why is not None:
                    repo.log(feed.id, [item], "filtered", now, f"filter: {why}", route.id)
                    continue
                passing.append((item, outcome))
        allowed = await room(repo, route, now)
        if allowed is not None and len(passing) > allowed:
            over = [item for item, _ in passing[allowed:]]
            passing = passing[:allowed]
            reason = over_cap_reason(route, len(over))
            rows = repo.log(feed.id, over, "skipped", now, reason, route.id)
            summaries.append((route, rows, over))
            log.info("route %s: %d items over its cap, in one summary post", route.id, len(over))
        for item, outcome in passing:
            [entry] = repo.log(feed.id, [item], outcome, now, route_id=route.id)
            look = look_of(route, ctx.community, outcome == "edited")
            message = post(item, source, tz, look)
            queued.append((entry, message))
    await ctx.uow.session.flush()  # an edit's delivery key names its log row
    for entry, message in queued:
        channel = ChannelRef(ctx.community, _route_channel(routes, entry))
        await ctx.deliver(channel, message, key=delivery_key(entry))
    for route, rows, over in summaries:
        channel = ChannelRef(ctx.community, route.channel_id)
        await ctx.deliver(channel, summary(over, source), key=f"ann:{feed.id}:more:{rows[0].id}")
    return len(queued) + len(summaries)


def _route_channel(routes: Sequence[AnnouncementRoute], entry: AnnouncementLog) -> str:
    return next(r.channel_id for r in routes if r.id == entry.route_id)


async def record_outcomes(ctx: Context[FeatureSettings]) -> int:
    """Mark waiting log rows posted or failed from their deliveries, open the discussions of
    new posts; returns how many rows changed."""
    repo = Repo(ctx.uow.session, ctx.community)
    waiting = await repo.waiting(WAITING)
    if not waiting:
        return 0
    routes = {r.id: r for r in await repo.routes()}
    sources = {f.id: f.title or f.url for f in await repo.feeds()}
    keys = [delivery_key(entry) for entry in waiting]
    # Asking the outbox may read in a transaction of its own: hold no lock of ours meanwhile.
    await ctx.commit()
    fates = [await ctx.delivery(key) for key in keys]
    changed = 0
    opened: list[tuple[AnnouncementLog, AnnouncementRoute, MessageRef]] = []
    refused: dict[int, AnnouncementLog] = {}
    for entry, done in zip(waiting, fates, strict=True):
        if done is not None and done.status == "pending":
            continue  # the outbox tries again later; so does this
        edited = entry.outcome == "edited"
        route = routes.get(entry.route_id or 0)
        if entry.outcome == "opening":
            if done is not None and done.message is not None and route is not None:
                opened.append((entry, route, done.message))  # a crash left it: open it now
            else:
                entry.outcome = "posted"
        elif done is None:
            # Logged before Steward posted items (or its delivery was lost): never posted now.
            entry.outcome, entry.reason = "skipped", "logged before posting was switched on"
        elif done.status == "sent":
            entry.outcome, entry.reason = "posted", "edited" if edited else entry.reason
            if done.message is not None:
                entry.message_id = done.message.id
                if route is not None and not edited:
                    entry.outcome = "opening"
                    opened.append((entry, route, done.message))
        else:
            entry.outcome, entry.reason = "failed", (done.reason or "the platform refused")[:200]
            if route is not None and blocking(entry.reason):
                refused[route.id] = entry
        changed += 1
    # The outcomes are written before any discussion opens: a thread failing costs no post.
    await ctx.commit()
    for route_id, last in refused.items():
        if await pause_if_refused(ctx, repo, routes[route_id], last):
            await ctx.commit()
    for entry, route, landed in opened:
        await open_discussion(ctx, entry, route, landed, sources.get(entry.feed_id, ""))
    return changed


async def open_discussion(
    ctx: Context[FeatureSettings],
    entry: AnnouncementLog,
    route: AnnouncementRoute,
    landed: MessageRef,
    source: str,
) -> None:
    """Open the post's discussion (a thread named after the item, with the manager's opening
    line) and tell the other features an announcement was posted."""
    thread: ChannelRef | None = None
    if landed.channel.id != route.channel_id:
        # A post in a forum is a thread of its own (its first message has the thread's id).
        thread = landed.channel
        entry.thread_id = thread.id
        if route.discussion == "thread" and route.opening:
            line = Message(text=neutralize_pings(visible(route.opening)))
            await ctx.deliver(thread, line, key=f"{delivery_key(entry)}:open")
    elif route.crosspost:
        fix = "Posts go on unpublished until I may publish there (Manage Messages)."
        key = f"announcements:crosspost:{route.id}"
        await ctx.attempt("publish a post", ctx.port.crosspost(landed), key=key, meanwhile=fix)
    if route.discussion == "thread" and thread is None:
        name = thread_name(Item(guid=None, title=entry.title, link=None))
        opened: list[ChannelRef] = []

        async def open_it() -> None:
            opened.append(await ctx.port.open_thread(landed, name))

        fix = "Posts go on without discussions until I may open threads there."
        key = f"announcements:thread:{route.id}"
        if await ctx.attempt("open a discussion thread", open_it(), key=key, meanwhile=fix):
            thread = opened[0]
            entry.thread_id = thread.thread or thread.id
            if route.opening:
                line = Message(text=neutralize_pings(visible(route.opening)))
                await ctx.deliver(thread, line, key=f"{delivery_key(entry)}:open")
    ctx.publish(
        AnnouncementPosted(
            community=ctx.community,
            at=ctx.clock.now(),
            message=landed,
            discussion=thread,
            title=entry.title,
            source=source,
            link=entry.link,
        )
    )
    entry.outcome = "posted"
    await ctx.commit()
