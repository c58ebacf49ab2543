"""How much a route may post: its cap (N posts per window, the overflow folded into one "and
12 more" post with links), and its pausing when the platform keeps refusing it (a permission
missing, the channel gone, a forum refusing the route's tags) until a manager resumes it."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.core import TAGS_REFUSED, Context, FeatureSettings, Message, UserError
from bot.core.templates import neutralize_pings
from cogs.announcements._items import Item
from cogs.announcements._models import AnnouncementLog, AnnouncementRoute
from cogs.announcements._plain import visible
from cogs.announcements._repo import Repo

log = logging.getLogger("steward.announcements")

UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
COUNTED = ("pending", "edited", "opening", "posted")
"""Log outcomes that are (or will be) posts: what a cap counts."""
LISTED = 15
"""Links listed in one summary post; more are counted in its last line."""
PAUSE_AFTER = 3
"""Refusals in a row (no post in between) that pause a route."""
_CAP = re.compile(r"^\s*(\d+)\s*(?:per|/|an?|every)\s*(\d+)?\s*(minute|hour|day|week)s?\s*$")


MAX_CAP_CHARS = 60
"""Longer than any cap a manager writes (``1000 per 43200 minutes`` is 22)."""


def parse_cap(text: str) -> tuple[int, int] | None:
    """``5 per hour`` as (posts, seconds); ``off`` as None; ``UserError`` when it doesn't read."""
    text = " ".join(text.lower().split())  # one space between words keeps the match linear
    if text in ("off", "none", "no"):
        return None
    found = _CAP.match(text) if len(text) <= MAX_CAP_CHARS else None
    if found is None:
        raise UserError(
            "A cap reads like `5 per hour`, `20 per day` or `3 per 30 minutes` (`off`: no cap)."
        )
    posts, many, unit = int(found[1]), int(found[2] or 1), found[3]
    if not 1 <= posts <= 1000 or not 1 <= many * UNITS[unit] <= 30 * 86400:
        raise UserError("A cap is 1 to 1,000 posts per window of a minute to 30 days.")
    return posts, many * UNITS[unit]


def cap_text(route: AnnouncementRoute) -> str:
    """The route's cap as a manager wrote it (``5 per hour``); empty without one."""
    if not route.cap_posts or not route.cap_window_s:
        return ""
    seconds = route.cap_window_s
    for unit, size in reversed(UNITS.items()):
        if seconds % size == 0:
            many = seconds // size
            return f"{route.cap_posts} per " + (unit if many == 1 else f"{many} {unit}s")
    return f"{route.cap_posts} per {seconds} seconds"  # pragma: no cover - parse_cap's units


async def room(repo: Repo, route: AnnouncementRoute, now: datetime) -> int | None:
    """How many more posts the route may make now (None: it has no cap)."""
    if not route.cap_posts or not route.cap_window_s:
        return None
    since = now - timedelta(seconds=route.cap_window_s)
    made = await repo.session.scalar(
        select(func.count())
        .select_from(AnnouncementLog)
        .where(
            AnnouncementLog.route_id == route.id,
            AnnouncementLog.outcome.in_(COUNTED),
            AnnouncementLog.at > since,
        )
    )
    return max(route.cap_posts - (made or 0), 0)


def summary(items: Sequence[Item], source: str) -> Message:
    """One post for the items over a cap: "…and 12 more from <source>", each with its link."""
    lines = []
    for item in items[:LISTED]:
        title = neutralize_pings(visible(item.title)) or "(untitled)"
        lines.append(f"• {title}" + (f" — {item.link}" if item.link else ""))
    if len(items) > LISTED:
        lines.append(f"…and {len(items) - LISTED} more in `/announcements log`.")
    title = f"…and {len(items)} more from {neutralize_pings(visible(source))}"
    return Message(title=title[:256], text="\n".join(lines), unfurl=False)


def over_cap_reason(route: AnnouncementRoute, over: int) -> str:
    """What the log says of an item over the route's cap."""
    return f"over the cap of {cap_text(route)}: listed in one “and {over} more” post"


def blocking(reason: str | None) -> bool:
    """Whether a failed post's reason is one that lasts until someone fixes it: a permission
    the platform says is missing, a channel that is gone, or a forum refusing the tags."""
    text = (reason or "").lower()
    return "didn't let me" in text or "no longer exists" in text or tags_refused(reason)


def tags_refused(reason: str | None) -> bool:
    """Whether a forum refused a post for the tags the route chose (its fix: other tags)."""
    return (reason or "").startswith(TAGS_REFUSED)


async def pause_if_refused(
    ctx: Context[FeatureSettings], repo: Repo, route: AnnouncementRoute, last: AnnouncementLog
) -> bool:
    """Pause the route when its last ``PAUSE_AFTER`` posts were all refused for a lasting
    reason, and tell the managers once, with the fix. True when it was paused now."""
    if route.paused:
        return False
    latest = list(
        await repo.session.scalars(
            select(AnnouncementLog)
            .where(
                AnnouncementLog.route_id == route.id,
                AnnouncementLog.outcome.in_(("posted", "opening", "failed")),
            )
            .order_by(AnnouncementLog.id.desc())
            .limit(PAUSE_AFTER)
        )
    )
    if len(latest) < PAUSE_AFTER or not all(
        row.outcome == "failed" and blocking(row.reason) for row in latest
    ):
        return False
    route.paused, route.paused_reason = True, (last.reason or "the platform refused")[:200]
    log.info("route %s paused after %d refusals: %s", route.id, PAUSE_AFTER, route.paused_reason)
    await ctx.alert_staff(
        f"Announcements stopped posting to <#{route.channel_id}> (route {route.id}): the last "
        f"{PAUSE_AFTER} posts were refused. {route.paused_reason} To fix it, {_fix(route)}. "
        "New items are logged as skipped until then.",
        key=f"announcements:paused:{route.id}:{last.id}",
    )
    return True


def _fix(route: AnnouncementRoute) -> str:
    """What the managers do about a paused route, by what paused it."""
    reason, resume = route.paused_reason or "", f"`/announcements route resume {route.id}`"
    if tags_refused(reason):
        return (
            f"give the route tags the forum takes now (`/announcements route set {route.id} "
            f"tags …`), then {resume}"
        )
    if "no longer exists" in reason:
        return (
            f"remove it (`/announcements route remove {route.id}`) and add one for another channel"
        )
    return (
        f"give me what it names in <#{route.channel_id}> (on Slack: invite me to the channel), "
        f"then {resume}"
    )
