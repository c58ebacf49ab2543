"""From what a manager pastes to a feed: known sites, and a page's ``<link rel=alternate>``."""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from cogs.announcements._items import http_url

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
        "text/xml",
        "application/xml",
    }
)
_SCAN = 512 * 1024
_NAME = r"[A-Za-z0-9_.-]+"


def known_feed(url: str) -> str | None:
    """The feed address of a YouTube channel or playlist, a Mastodon or Bluesky profile, a
    subreddit or a GitHub repository; None for anything else (it may be a feed or a page)."""
    short = re.fullmatch(r"/?r/(\w{2,21})/?", url.strip())
    if short:
        return f"https://www.reddit.com/r/{short.group(1)}/.rss"
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = parts.path
    if host == "youtube.com":
        channel = re.fullmatch(r"/channel/(UC[\w-]{22})/?.*", path)
        if channel:
            return f"https://www.youtube.com/feeds/videos.xml?channel_id={channel.group(1)}"
        playlist = parse_qs(parts.query).get("list")
        if path.rstrip("/") == "/playlist" and playlist and re.fullmatch(r"[\w-]+", playlist[0]):
            return f"https://www.youtube.com/feeds/videos.xml?playlist_id={playlist[0]}"
        return None  # @handles: the channel page names its feed (discovery does the rest)
    if host in ("reddit.com", "old.reddit.com"):
        sub = re.fullmatch(r"/r/(\w{2,21})/?", path)
        return f"https://www.reddit.com/r/{sub.group(1)}/.rss" if sub else None
    if host == "github.com":
        repo = re.fullmatch(rf"/({_NAME})/({_NAME})/?(?:releases/?)?", path)
        if repo and not repo.group(2).endswith(".atom"):
            return f"https://github.com/{repo.group(1)}/{repo.group(2)}/releases.atom"
        return None
    if host == "bsky.app":
        profile = re.fullmatch(rf"/profile/({_NAME})/?", path)
        return f"https://bsky.app/profile/{profile.group(1)}/rss" if profile else None
    mastodon = re.fullmatch(rf"/@({_NAME})/?", path)
    if mastodon:  # any Mastodon server: /@user has /@user.rss
        return f"{parts.scheme}://{parts.netloc}/@{mastodon.group(1)}.rss"
    return None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.found.append((kind, values["href"]))


def alternates(page: bytes, base: str) -> list[str]:
    """Feed addresses a web page advertises with ``<link rel="alternate">``, in page order."""
    parser = _Links()
    # HTMLParser can trip on hostile markup; what it found before that still counts.
    with contextlib.suppress(AssertionError, ValueError):
        parser.feed(page[:_SCAN].decode("utf-8", errors="replace"))
    urls = []
    for _kind, href in parser.found:
        url = http_url(href, base)
        if url and url not in urls:
            urls.append(url)
    return urls
