"""Managing a feed's destinations (routes): what the route commands do, and how routes read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core import Capability, ChannelRef, CommandContext, FeatureSettings, RoleRef, UserError
from bot.core.parsing import parse_bool, parse_role
from bot.core.templates import neutralize_pings
from cogs.announcements._filters import FilterError, explain, parse, show
from cogs.announcements._items import Item
from cogs.announcements._limits import cap_text, parse_cap
from cogs.announcements._models import AnnouncementFeed, AnnouncementRoute
from cogs.announcements._plain import visible
from cogs.announcements._render import STYLES, check_template, filter_values
from cogs.announcements._repo import Repo
from cogs.announcements._tags import check_destination, parse_tags, stored
from cogs.announcements._texts import shown_title

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
    tags: str = ""


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


def checked_style(style: str) -> str:
    """``embed`` or ``text``."""
    if style not in STYLES:
        raise UserError("`style` is either `embed` (the default) or `text`.")
    return style


def checked_discussion(discussion: str) -> str:
    """``thread`` or ``none``."""
    if discussion not in DISCUSSIONS:
        raise UserError("`discussion` is either `thread` (the default) or `none`.")
    return discussion


def checked_crosspost(ctx: Ctx, crosspost: bool) -> bool:
    """Publishing is for Discord's announcement channels."""
    if crosspost and Capability.CROSSPOST not in ctx.port.capabilities:
        raise UserError(
            f"{ctx.port.platform.capitalize()} has no announcement channels to publish from: "
            "leave `crosspost` off."
        )
    return crosspost


def checked_mention(ctx: Ctx, mention: RoleRef | None) -> str | None:
    """The one role a route may ping, never @everyone."""
    if mention is not None and mention.id == ctx.community.id:
        raise UserError("A route may ping one role, never everyone: pick a role.")
    return mention.id if mention else None


def checked_template(template: str) -> str:
    """A template as stored (empty: the style's default)."""
    template = template.strip()
    if template:
        check_template(template)
    return template


def checked_opening(opening: str | None) -> str:
    """The first line of each discussion (the default when not given)."""
    line = OPENING if opening is None else opening.strip()
    if len(line) > 300:
        raise UserError("Keep the opening line under 300 characters.")
    return visible(line)


async def checked_tags(ctx: Ctx, channel: ChannelRef, tags: str) -> str:
    """Tags as stored, checked against the channel: a forum's own tags only, one on every post
    where the forum requires it; no tags outside forums (none on Slack)."""
    rules = parse_tags(tags)
    check_destination(ctx.port.platform, channel, await ctx.port.forum(channel), rules)
    return stored(rules)


def new_route(ctx: Ctx, feed: AnnouncementFeed, spec: RouteSpec) -> AnnouncementRoute:
    """A route checked from what the manager typed (``UserError`` for each mistake)."""
    discussion = checked_discussion(spec.discussion)
    return AnnouncementRoute(
        feed_id=feed.id,
        channel_id=spec.channel.id,
        filter=checked_filter(spec.filter),
        template=checked_template(spec.template),
        style=checked_style(spec.style),
        mention_role_id=checked_mention(ctx, spec.mention),
        discussion=discussion,
        crosspost=checked_crosspost(ctx, spec.crosspost),
        opening=checked_opening(spec.opening) if discussion == "thread" else "",
        tags="",
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
    route.tags = await checked_tags(ctx, spec.channel, spec.tags)
    route.cap_posts, route.cap_window_s = cap or (None, None)
    repo.session.add(route)
    await repo.session.flush()
    return f"Added route {route.id}: " + route_text(route, feed)


SETTABLE = (
    "filter",
    "template",
    "style",
    "mention",
    "discussion",
    "opening",
    "crosspost",
    "tags",
    "cap",
)
"""What ``route set`` changes, one at a time."""
_NOTHING = ("none", "off", "default")


async def set_route(ctx: Ctx, repo: Repo, number: int, field: str, value: str) -> str:
    """Change one setting of a route, checked as ``route add`` checks it; what the manager reads."""
    route = await repo.route(number)
    if route is None:
        raise UserError(f"There is no route {number}: see `/announcements route list`.")
    name, text = field.strip().lower(), value.strip()
    nothing = text.lower() in _NOTHING
    if name == "filter":
        route.filter = "" if nothing else checked_filter(text)
    elif name == "template":
        route.template = "" if nothing else checked_template(text)
    elif name == "style":
        route.style = checked_style(text.lower())
    elif name == "mention":
        role = None if nothing else parse_role(text, ctx.community)
        route.mention_role_id = checked_mention(ctx, role)
    elif name == "discussion":
        route.discussion = checked_discussion(text.lower())
        if route.discussion == "thread" and not route.opening:
            route.opening = OPENING
    elif name == "opening":
        route.opening = "" if nothing else checked_opening(text)
    elif name == "crosspost":
        route.crosspost = checked_crosspost(ctx, parse_bool(text))
    elif name == "tags":
        channel = ChannelRef(ctx.community, route.channel_id)
        route.tags = await checked_tags(ctx, channel, text)
    elif name == "cap":
        route.cap_posts, route.cap_window_s = parse_cap(text) or (None, None)
    else:
        fields = ", ".join(f"`{f}`" for f in SETTABLE)
        raise UserError(f"`{field.strip()[:40]}` is not a route setting; I can set {fields}.")
    await repo.session.flush()
    return f"Changed route {route.id}: " + route_text(route, await repo.feed(route.feed_id))


def route_text(route: AnnouncementRoute, feed: AnnouncementFeed | None = None) -> str:
    """One route in a line: where, which items, how, who is pinged, the discussion (the texts
    from a feed or a manager pinging nobody; the route's role shown as a mention)."""
    name = f"feed {route.feed_id}" + (f" ({feed.title})" if feed and feed.title else "")
    style = "an embed" if route.style == "embed" else "plain text"
    parts = [f"{neutralize_pings(name)} → <#{route.channel_id}>", f"as {style}"]
    parts.append(f"only items where {route.filter}" if route.filter else "every item")
    if route.template:
        parts.append(f"template `{route.template[:100]}`")
    if route.crosspost:
        parts.append("published to following servers")
    if route.tags:
        parts.append(f"tags {route.tags}")
    if route.discussion == "thread":
        opening = f", opening with “{route.opening}”" if route.opening else ""
        parts.append(f"opens a discussion{opening}")
    parts[1:] = [neutralize_pings(part) for part in parts[1:]]
    if route.mention_role_id:  # shown, not pinged: a reply pings nobody it doesn't list
        parts.insert(4 if route.template else 3, f"pings <@&{route.mention_role_id}>")
    if route.cap_posts:
        parts.append(f"at most {cap_text(route)} (the rest in one “and N more” post)")
    if route.paused:
        reason = neutralize_pings(route.paused_reason or "")
        parts.append(f"PAUSED ({reason}): `/announcements route resume {route.id}`")
    return "; ".join(parts) + "."


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
            lines.append(f"• {shown_title(item.title)}: {verdict}, because {why}")
    return neutralize_pings("\n".join(lines))
