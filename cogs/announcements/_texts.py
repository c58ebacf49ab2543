"""What managers read about a feed, in Steward's words (plain text, no pings, no raw HTML)."""

from __future__ import annotations

from bot.core.templates import neutralize_pings
from cogs.announcements._fetch import FetchError, Problem
from cogs.announcements._items import Feed, Item

FORMATS = {"json": "JSON Feed", "rss-in-json": "RSS-in-JSON", "rss1": "RSS 1.0", "rss10": "RSS 1.0"}


def format_name(feed: Feed) -> str:
    """The feed's format as a manager would call it."""
    if feed.format in FORMATS:
        return FORMATS[feed.format]
    if feed.format.startswith("atom"):
        return "Atom"
    return "RSS"


def _line(item: Item) -> str:
    title = item.title or "(untitled)"
    when = f" ({item.published:%Y-%m-%d})" if item.published else ""
    return f"• {title}{when}"


def found_text(feed: Feed, url: str) -> str:
    """What ``/announcements check`` shows: the feed, its item count and the newest titles."""
    name = feed.title or url
    lines = [f"{name}: a {format_name(feed)} feed with {len(feed.items)} items."]
    if feed.recovered:
        lines.append("It is not quite well-formed; this is what could be read.")
    if feed.items:
        lines.append("Newest:")
        lines += [_line(item) for item in feed.items[:3]]
    # Feed text is the publisher's, not the manager's: it never pings anyone.
    return neutralize_pings("\n".join(lines))


def problem_text(url: str, error: FetchError | None) -> str:
    """Why a feed could not be read, for the manager who asked (no exception text)."""
    shown = url.strip()[:200]
    if error is None or error.problem is Problem.NOT_A_FEED:
        text = f"{shown} is not a feed I can read: I read RSS, Atom and JSON Feed."
    elif error.problem is Problem.BAD_URL:
        text = f"{shown} is not a web address I can fetch: give me an http:// or https:// link."
    else:
        text = f"I couldn't fetch {shown}: {error.explain()}."
    return neutralize_pings(text)


def paused_notice(url: str, failures: int, error: FetchError) -> str:
    """What managers are told when a feed is paused after failing again and again."""
    text = (
        f"I paused the feed {url.strip()[:200]}: it failed {failures} times in a row, "
        f"the last time because {error.explain()}. "
        f"When it is fixed, resume it with `/announcements resume {url.strip()[:200]}`."
    )
    return neutralize_pings(text)
