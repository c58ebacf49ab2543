"""Feed bytes (never a URL) into a ``Feed``: RSS 0.9x/1.0/2.0, Atom, JSON Feed, with what survives.

Chosen by measurement (bench/feed_parsers.py): fastfeedparser reads the 52 sample feeds about
50 times faster than feedparser and recovers as many items; feedparser stays as the fallback for
what fastfeedparser misses (RSS 0.90, some broken documents), and JSON is read by hand.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import fastfeedparser
import feedparser

from bot.core.parsing import digits_value
from cogs.announcements._dates import parse_date
from cogs.announcements._items import (
    MAX_AUTHOR,
    MAX_ITEMS,
    MAX_SUMMARY,
    MAX_TAGS,
    MAX_TITLE,
    MAX_URL,
    Enclosure,
    Feed,
    Item,
    clip,
    http_url,
)
from cogs.announcements._jsonfeed import looks_like_json, parse_json
from cogs.announcements._xmlsafe import defang

_YOUTUBE = b"http://www.youtube.com/xml/schemas/2015"
_ITEMS = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)[\s>/]")
_LOOSE_MAX_TAGS = 100_000
_ROOT = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(feed|rss|RDF)[\s>]")


class NotAFeed(ValueError):
    """The bytes are not a feed Steward can read (an HTML page, an image, garbage)."""


def parse_feed(body: bytes, base_url: str = "") -> Feed:
    """Parse feed bytes into a ``Feed``; raises ``NotAFeed`` and nothing else."""
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes the fetched bytes, never a URL or a path")
    try:
        return _parse(body, base_url)
    except NotAFeed:
        raise
    except Exception as exc:  # a hostile document must never take more than its own feed down
        raise NotAFeed(f"unreadable ({type(exc).__name__})") from exc


def _parse(body: bytes, base_url: str) -> Feed:
    if not body.strip():
        raise NotAFeed("empty")
    if looks_like_json(body):
        feed = parse_json(body, base_url)
        if feed is None:
            raise NotAFeed("JSON, but not a JSON Feed")
        return feed
    safe = defang(body)
    if _YOUTUBE in safe[:4096]:
        # fastfeedparser drops media:group, where YouTube keeps the thumbnail and description.
        return _loose(safe, base_url) or _from_parsed(fastfeedparser.parse(safe), base_url, "atom")
    fast: Any = None
    try:
        fast = fastfeedparser.parse(safe, include_tags=True)
    except (ValueError, TypeError, LookupError):
        fast = None
    if fast is not None and fast.entries:
        return _from_parsed(fast, base_url, _format_of(safe), recovered=False)
    # What fastfeedparser cannot read: RSS 0.90, and broken documents feedparser's loose
    # parser gets something out of. Its pure-Python parser costs seconds on a hostile
    # document (100,000 nested tags), so only a document with items and a sane tag count.
    if _ITEMS.search(safe) and safe.count(b"<") <= _LOOSE_MAX_TAGS:
        loose = _loose(safe, base_url)
        if loose is not None:
            return loose
    if fast is not None:
        return _from_parsed(fast, base_url, _format_of(safe), recovered=False)
    raise NotAFeed("not RSS, Atom or JSON Feed")


def _loose(safe: bytes, base_url: str) -> Feed | None:
    # BytesIO, because feedparser opens a bytes "path" as a file.
    loose = feedparser.parse(io.BytesIO(safe), sanitize_html=False, resolve_relative_uris=False)
    if not (loose.entries or loose.get("version")):
        return None
    version = str(loose.get("version") or "") or _format_of(safe)
    return _from_parsed(loose, base_url, version, recovered=bool(loose.get("bozo")))


def _from_parsed(parsed: Any, base: str, fmt: str, *, recovered: bool = False) -> Feed:
    head: Mapping[str, Any] = parsed.feed
    link = http_url(head.get("link"), base)
    hub = None
    for link_info in head.get("links") or ():
        if isinstance(link_info, Mapping) and link_info.get("rel") == "hub":
            hub = http_url(link_info.get("href"), base)
    entries = list(parsed.entries)
    items = tuple(_item(e, link or base) for e in entries[:MAX_ITEMS])
    return Feed(
        format=fmt,
        title=clip(_text(head.get("title")), MAX_TITLE),
        link=link,
        items=items,
        hub=hub,
        recovered=recovered,
        truncated=len(entries) > MAX_ITEMS,
    )


def _format_of(body: bytes) -> str:
    root = _ROOT.search(body[:8192])
    name = root.group(1) if root else b"rss"
    return {b"feed": "atom", b"RDF": "rss1"}.get(name, "rss")


def _item(entry: Mapping[str, Any], base: str) -> Item:
    guid = _text(entry.get("id")) or None
    summary = _text(entry.get("description")) or _text(entry.get("summary"))
    if not summary:
        content = entry.get("content")
        if isinstance(content, list) and content and isinstance(content[0], Mapping):
            summary = _text(content[0].get("value"))
    return Item(
        guid=clip(guid, MAX_URL) if guid else None,
        title=clip(_text(entry.get("title")), MAX_TITLE),
        link=http_url(entry.get("link"), base),
        summary=clip(summary, MAX_SUMMARY),
        published=_date(entry, "published"),
        updated=_date(entry, "updated"),
        author=clip(_text(entry.get("author")), MAX_AUTHOR) or None,
        image=_image(entry, base),
        enclosures=tuple(_enclosures(entry.get("enclosures"), base)),
        tags=tuple(_tags(entry.get("tags"))),
    )


def _date(entry: Mapping[str, Any], key: str) -> datetime | None:
    return parse_date(_text(entry.get(key)))


def _image(entry: Mapping[str, Any], base: str) -> str | None:
    for key in ("media_thumbnail", "media_content"):
        for media in entry.get(key) or ():
            if not isinstance(media, Mapping):
                continue
            kind = _text(media.get("type")) or _text(media.get("medium"))
            if key == "media_thumbnail" or not kind or kind.startswith("image"):
                url = http_url(media.get("url"), base)
                if url:
                    return url
    image = entry.get("image")
    if isinstance(image, Mapping):
        image = image.get("href") or image.get("url")
    return http_url(image, base)


def _enclosures(raw: Any, base: str) -> Iterable[Enclosure]:
    for enc in (raw or ())[:MAX_TAGS]:
        if not isinstance(enc, Mapping):
            continue
        url = http_url(enc.get("url") or enc.get("href"), base)
        if url:
            length = enc.get("length")
            size = digits_value(str(length)) if isinstance(length, int | str) else None
            yield Enclosure(url, clip(_text(enc.get("type")), 100), size)


def _tags(raw: Any) -> Iterable[str]:
    for tag in (raw or ())[:MAX_TAGS]:
        term = tag.get("term") if isinstance(tag, Mapping) else tag
        if isinstance(term, str) and term.strip():
            yield clip(term, 100)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
