"""Managing a feed's destinations (routes): what the route commands do, and how routes read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core import Capability, ChannelRef, CommandContext, FeatureSettings, RoleRef, UserError
from bot.core.templates import neutralize_pings
from cogs.announcements._filters import FilterError, explain, parse, show
from cogs.announcements._items import Item
from cogs.announcements._limits import cap_text
from cogs.announcements._models import AnnouncementFeed, AnnouncementRoute
from cogs.announcements._plain import visible
from cogs.announcements._render import STYLES, check_template, filter_values
from cogs.announcements._repo import Repo

Ctx = CommandContext[FeatureSettings]
MAX_ROUTES = 10
DISCUSSIONS = ("thread", "none")
OPENING = "What do you think?"


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route as a manager asked for it, before it is checked."""

    channel: ChannelRef
    filter: str = ""
    template: str = ""
    style: str = "embed"
    mention: RoleRef | None = None
    discussion: str = "thread"
    opening: str | None = None
    crosspost: bool = False


def checked_filter(text: str) -> str:
    """A filter as stored (written out again the one way), or ``UserError`` with the mistake."""
    try:
        found = parse(text)
    except FilterError as exc:
        raise UserError(
            f"That filter doesn't read: {exc.message} "
            "A filter looks like `title contains 'launch' and not categories equals 'internal'`."
        ) from exc
    return "" if found is None else show(found)


def new_route(ctx: Ctx, feed: AnnouncementFeed, spec: RouteSpec) -> AnnouncementRoute:
    """A route checked from what the manager typed (``UserError`` for each mistake)."""
    if spec.style not in STYLES:
        raise UserError("`style` is either `embed` (the default) or `text`.")
    if spec.discussion not in DISCUSSIONS:
        raise UserError("`discussion` is either `thread` (the default) or `none`.")
    if spec.crosspost and Capability.CROSSPOST not in ctx.port.capabilities:
        raise UserError(
            f"{ctx.port.platform.capitalize()} has no announcement channels to publish from: "
            "leave `crosspost` off."
        )
    if spec.mention is not None and spec.mention.id == ctx.community.id:
        raise UserError("A route may ping one role, never everyone: pick a role.")
    template = spec.template.strip()
    if template:
        check_template(template)
    opening = OPENING if spec.opening is None else spec.opening.strip()
    if len(opening) > 300:
        raise UserError("Keep the opening line under 300 characters.")
    return AnnouncementRoute(
        feed_id=feed.id,
        channel_id=spec.channel.id,
        filter=checked_filter(spec.filter),
        template=template,
        style=spec.style,
        mention_role_id=spec.mention.id if spec.mention else None,
        discussion=spec.discussion,
        crosspost=spec.crosspost,
        opening=visible(opening) if spec.discussion == "thread" else "",
        added_by=ctx.actor.ref.id,
        added_at=ctx.clock.now(),
    )


async def add_route(
    ctx: Ctx,
    repo: Repo,
    feed: AnnouncementFeed,
    spec: RouteSpec,
    cap: tuple[int, int] | None = None,
) -> str:
    """Store a new route for a feed (``cap``: posts per seconds); what the manager reads."""
    if len(await repo.routes(feed.id)) >= MAX_ROUTES:
        raise UserError(f"Feed {feed.id} already has {MAX_ROUTES} routes, my limit.")
    route = new_route(ctx, feed, spec)
    route.cap_posts, route.cap_window_s = cap or (None, None)
    repo.session.add(route)
    await repo.session.flush()
    return f"Added route {route.id}: " + route_text(route, feed)


def route_text(route: AnnouncementRoute, feed: AnnouncementFeed | None = None) -> str:
    """One route in a line: where, which items, how, who is pinged, the discussion."""
    name = f"feed {route.feed_id}" + (f" ({feed.title})" if feed and feed.title else "")
    style = "an embed" if route.style == "embed" else "plain text"
    parts = [f"{name} → <#{route.channel_id}>", f"as {style}"]
    parts.append(f"only items where {route.filter}" if route.filter else "every item")
    if route.template:
        parts.append(f"template `{route.template[:100]}`")
    if route.mention_role_id:
        parts.append(f"pings <@&{route.mention_role_id}>")
    if route.crosspost:
        parts.append("published to following servers")
    if route.discussion == "thread":
        opening = f", opening with “{route.opening}”" if route.opening else ""
        parts.append(f"opens a discussion{opening}")
    if route.cap_posts:
        parts.append(f"at most {cap_text(route)} (the rest in one “and N more” post)")
    if route.paused:
        parts.append(f"PAUSED ({route.paused_reason}): `/announcements route resume {route.id}`")
    return neutralize_pings("; ".join(parts) + ".")


def routes_text(routes: Sequence[AnnouncementRoute], feeds: Sequence[AnnouncementFeed]) -> str:
    """Every route, one line each."""
    if not routes:
        return "No routes yet. Add one with `/announcements route add <feed> <#channel>`."
    by_id = {f.id: f for f in feeds}
    return "\n".join(f"{r.id}. {route_text(r, by_id.get(r.feed_id))}" for r in routes)


def filter_report(
    routes: Sequence[AnnouncementRoute], items: Sequence[Item], source: str, shown: int = 5
) -> str:
    """For each route with a filter: which of the latest items pass, and why others stop."""
    lines: list[str] = []
    for route in routes:
        found = parse(route.filter) if route.filter else None
        if found is None:
            continue
        lines.append(f"Route {route.id} ({route.filter}):")
        for item in items[:shown]:
            passed, why = explain(found, filter_values(item, source))
            verdict = "passes" if passed else "stopped"
            lines.append(f"• {item.title or '(untitled)'}: {verdict}, because {why}")
    return neutralize_pings("\n".join(lines))
