"""JSON Feed 1.0/1.1 (and Dave Winer's RSS-in-JSON) into the item shape, recovering truncated files.

Written by hand because it is a dictionary walk: ``json.loads`` does the parsing, and neither
feedparser nor fastfeedparser reads RSS-in-JSON or recovers the items before a truncation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

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
    whole,
)

_DECODER = json.JSONDecoder()


def looks_like_json(body: bytes) -> bool:
    """Whether the document starts like a JSON object (after a BOM and white space)."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{")


def parse_json(body: bytes, base_url: str) -> Feed | None:
    """A JSON Feed or RSS-in-JSON as a ``Feed``; None when it is neither."""
    text = body.decode("utf-8-sig", errors="replace")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return _recover(text, base_url)
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("rss"), dict):
        return _rss_in_json(doc["rss"], base_url)
    if not isinstance(doc.get("items"), list):
        return None
    return _json_feed(doc, doc["items"], base_url, recovered=False)


def _json_feed(doc: Mapping[str, Any], raw: list[Any], base: str, *, recovered: bool) -> Feed:
    base = _str(doc.get("home_page_url")) or base
    items = [item for entry in raw[:MAX_ITEMS] if (item := _item(entry, base)) is not None]
    hubs = doc.get("hubs")
    hub = None
    if isinstance(hubs, list) and hubs and isinstance(hubs[0], dict):
        hub = whole(_str(hubs[0].get("url")))
    return Feed(
        format="json",
        title=clip(_str(doc.get("title")), MAX_TITLE),
        link=http_url(doc.get("home_page_url"), base),
        items=tuple(items),
        hub=hub,
        recovered=recovered,
        truncated=len(raw) > MAX_ITEMS,
    )


def _item(entry: Any, base: str) -> Item | None:
    if not isinstance(entry, dict):
        return None
    author = _author(entry)
    attachments = entry.get("attachments")
    enclosures: list[Enclosure] = []
    if isinstance(attachments, list):
        for att in attachments[:MAX_TAGS]:
            if isinstance(att, dict) and (url := http_url(att.get("url"), base)):
                size = att.get("size_in_bytes")
                length = size if isinstance(size, int) and not isinstance(size, bool) else None
                enclosures.append(Enclosure(url, clip(_str(att.get("mime_type")), 100), length))
    tags = entry.get("tags")
    guid = entry.get("id")
    summary = _str(entry.get("summary")) or _str(entry.get("content_html"))
    return Item(
        guid=clip(str(guid), MAX_URL) if isinstance(guid, str | int) and guid != "" else None,
        title=clip(_str(entry.get("title")), MAX_TITLE),
        link=http_url(entry.get("url"), base) or http_url(entry.get("external_url"), base),
        summary=clip(summary or _str(entry.get("content_text")), MAX_SUMMARY),
        published=parse_date(_str(entry.get("date_published"))),
        updated=parse_date(_str(entry.get("date_modified"))),
        author=clip(author, MAX_AUTHOR) or None,
        image=http_url(entry.get("image"), base) or http_url(entry.get("banner_image"), base),
        enclosures=tuple(enclosures),
        tags=tuple(clip(t, 100) for t in tags[:MAX_TAGS] if isinstance(t, str))
        if isinstance(tags, list)
        else (),
    )


def _author(entry: Mapping[str, Any]) -> str:
    # 1.1 has authors[]; 1.0 had author{}; publishers in between send both.
    authors = entry.get("authors")
    if isinstance(authors, list):
        names = [_str(a.get("name")) for a in authors if isinstance(a, dict)]
        if any(names):
            return ", ".join(n for n in names if n)
    author = entry.get("author")
    return _str(author.get("name")) if isinstance(author, dict) else ""


def _rss_in_json(rss: Mapping[str, Any], base: str) -> Feed:
    channel = rss.get("channel")
    channel = channel if isinstance(channel, dict) else {}
    raw = channel.get("item")
    raw = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    link = http_url(channel.get("link"), base)
    items: list[Item] = []
    for entry in raw[:MAX_ITEMS]:
        if not isinstance(entry, dict):
            continue
        guid = entry.get("guid")
        if isinstance(guid, dict):
            guid = guid.get("#value") or guid.get("value") or guid.get("flValue")
        items.append(
            Item(
                guid=clip(str(guid), MAX_URL) if isinstance(guid, str | int) and guid else None,
                title=clip(_str(entry.get("title")), MAX_TITLE),
                link=http_url(entry.get("link"), link or base),
                summary=clip(_str(entry.get("description")), MAX_SUMMARY),
                published=parse_date(_str(entry.get("pubDate"))),
            )
        )
    return Feed(
        format="rss-in-json",
        title=clip(_str(channel.get("title")), MAX_TITLE),
        link=link,
        items=tuple(items),
        truncated=len(raw) > MAX_ITEMS,
    )


def _recover(text: str, base: str) -> Feed | None:
    """The complete items before the point where a JSON Feed was cut off."""
    start = text.find('"items"')
    if start < 0:
        return None
    bracket = text.find("[", start)
    if bracket < 0:
        return None
    raw = list(_complete_objects(text, bracket + 1))
    if not raw:
        return None
    return _json_feed({}, raw, base, recovered=True)


def _complete_objects(text: str, pos: int) -> Iterator[Any]:
    while len(text) > pos:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return
        yield value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
