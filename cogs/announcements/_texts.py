"""What managers read about a feed, in Steward's words (plain text, no pings, no raw HTML)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import ChannelRef, UserError, mention, plural
from bot.core.markup import escape_markup
from bot.core.templates import neutralize_pings
from cogs.announcements._fetch import FetchError, Problem
from cogs.announcements._identity import COMPARABLE, Verdict
from cogs.announcements._items import Feed, Item
from cogs.announcements._models import AnnouncementFeed, AnnouncementLog

FORMATS = {"json": "JSON Feed", "rss-in-json": "RSS-in-JSON", "rss1": "RSS 1.0", "rss10": "RSS 1.0"}


def format_name(feed: Feed) -> str:
    """The feed's format as a manager would call it."""
    if feed.format in FORMATS:
        return FORMATS[feed.format]
    if feed.format.startswith("atom"):
        return "Atom"
    return "RSS"


def shown_title(title: str) -> str:
    """An item's title (text from outside) as a manager reads it in an answer: exactly as
    typed, formatting nothing (pings are made inert over the whole answer)."""
    return escape_markup(title) or "(untitled)"


def _line(item: Item) -> str:
    title = shown_title(item.title)
    when = f" ({item.published:%Y-%m-%d})" if item.published else ""
    return f"• {title}{when}"


def found_text(feed: Feed, url: str) -> str:
    """What ``/announcements check`` shows: the feed, its item count and the newest titles."""
    name = escape_markup(feed.title) or url
    kind = format_name(feed)
    article = "an" if kind[0] in "AR" else "a"
    lines = [f"{name}: {article} {kind} feed with {plural(len(feed.items), 'item')}."]
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
        f"I paused the feed {url.strip()[:200]}: it failed {plural(failures, 'time')} in a row, "
        f"the last time because {error.explain()}. "
        f"When it is fixed, resume it with `/announcements resume {url.strip()[:200]}`."
    )
    return neutralize_pings(text)


def clean_url(text: str) -> str:
    """A URL as typed: Slack wraps links as ``<url>`` or ``<url|label>``; spaces trimmed."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    return text.strip()


def added_text(row: AnnouncementFeed, feed: Feed, channel: ChannelRef) -> str:
    """What the manager sees after ``/announcements add``."""
    name = feed.title or row.url
    start = (
        "I'll post only the newest item now, then each new one."
        if row.first_fetch == "newest"
        else f"Items already there ({plural(len(feed.items), 'item')}) are not posted; new ones "
        "will be."
    )
    text = (
        f"Following {name} ({format_name(feed)}) as feed {row.id}, into {mention(channel)}. "
        f"{start} I check it every {plural(_minutes(row), 'minute')}."
    )
    return neutralize_pings(text)


def _minutes(row: AnnouncementFeed) -> int:
    return (row.interval_s or 600) // 60


def list_text(rows: Sequence[AnnouncementFeed]) -> str:
    """The community's feeds, one line each, with their state."""
    if not rows:
        return "No feeds yet. Add one with `/announcements add <url> <#channel>`."
    lines = []
    for row in rows:
        if row.kind == "webhook":
            lines.append(f"{row.id}. {row.title} (webhook{', paused' if row.paused else ''})")
            continue
        state = "paused" if row.paused else f"every {_minutes(row)} min"
        if row.paused and row.paused_reason:
            state += f" ({row.paused_reason})"
        elif row.last_error:
            state += f", last try failed: {row.last_error}"
        lines.append(f"{row.id}. {row.title or row.url} <{row.url}>: {state}")
    return neutralize_pings("\n".join(lines))


def would_post_text(verdict: Verdict, log: Sequence[AnnouncementLog]) -> str:
    """What a poll now would hand over, and the latest delivery-log lines."""
    lines = []
    if verdict.post or verdict.changed:
        lines.append("Would post now:")
        lines += [_line(i) for i in (*verdict.post, *verdict.changed)[:5]]
    else:
        lines.append("Nothing new to post.")
    if log:
        lines.append("Latest in the log:")
        lines += [
            f"• {shown_title(r.title)}: {r.outcome}" + (f" ({r.reason})" if r.reason else "")
            for r in log[:5]
        ]
    return neutralize_pings("\n".join(lines))


def import_plan(urls: Sequence[str], known: set[str], room: int) -> tuple[list[str], list[str]]:
    """Which OPML feeds to add (http(s), new, within the limit) and which to leave out."""
    added: list[str] = []
    skipped: list[str] = []
    for url in urls:
        usable = url.lower().startswith(("http://", "https://")) and len(url) <= 2048
        if usable and url not in known and url not in added and len(added) < room:
            added.append(url)
        else:
            skipped.append(url)
    return added, skipped


def imported_text(added: Sequence[str], skipped: Sequence[str], pushed: int = 0) -> str:
    """What the manager sees after ``/announcements import`` (``pushed``: feeds whose WebSub
    hub took a subscription)."""
    if not added:
        return "No new feeds in that file (all known, not web addresses, or over my limit)."
    text = f"Following {len(added)} new feeds; each starts quietly, posting only new items."
    if skipped:
        text += f" Left out {len(skipped)} (already followed, not web addresses, or over my limit)."
    if pushed:
        text += f" {pushed} of them have a hub that pushes new items as they come (WebSub)."
    return text


def compare_fields(text: str) -> list[str]:
    """The fields a manager named for re-announcing (``none``: none); ``UserError`` if unknown."""
    names = [n.strip().lower() for n in text.replace(" ", ",").split(",") if n.strip()]
    if names in ([], ["none"]):
        return []
    unknown = [n for n in names if n not in COMPARABLE]
    if unknown:
        raise UserError(
            f"I can't compare {', '.join(unknown)[:100]}: pick from {', '.join(COMPARABLE)}."
        )
    return sorted(set(names))


def tuned_text(row: AnnouncementFeed) -> str:
    """A feed's settings, after ``/announcements set``."""
    parts = [f"Feed {row.id}: checked every {plural(_minutes(row), 'minute')}"]
    if row.max_age_s:
        parts.append(f"new items older than {_span(row.max_age_s)} are skipped")
    if row.compare:
        parts.append(f"an item is posted again when its {row.compare.replace(',', ' or ')} changes")
    return "; ".join(parts) + "."


def _span(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return plural(seconds // size, unit)
    return plural(seconds, "second")
