"""What a verified webhook delivery says, as items with the same fields a feed item has.

GitHub releases are understood as they come; any other JSON is read through a small mapping of
item field -> dotted path that the manager sets (sensible defaults: ``title``, ``url``, ...).
WebSub pushes are feed documents and go through the feed parser (the same XML defences).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cogs.announcements._dates import parse_date
from cogs.announcements._items import (
    MAX_AUTHOR,
    MAX_SUMMARY,
    MAX_TITLE,
    MAX_URL,
    Item,
    clip,
    http_url,
)
from cogs.announcements._parse import NotAFeed, parse_feed
from cogs.announcements._signatures import Scheme

FIELDS = ("guid", "title", "link", "summary", "published", "author", "image")
DEFAULT_MAPPING: Mapping[str, str] = {
    "guid": "id",
    "title": "title",
    "link": "url",
    "summary": "summary",
    "published": "date",
    "author": "author",
    "image": "image",
}


class PayloadError(ValueError):
    """The delivery is signed and fresh but not something Steward can make an item of."""


def check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """A manager's mapping, validated: known fields, dotted paths of plain names."""
    clean: dict[str, str] = {}
    for name, path in mapping.items():
        if name not in FIELDS:
            raise PayloadError(f"`{name}` is not an item field: use {', '.join(FIELDS)}")
        parts = path.split(".")
        if not path or len(parts) > 8 or not all(p.replace("_", "").isalnum() for p in parts):
            raise PayloadError(f"`{path}` is not a path like `release.name`")
        clean[name] = path
    return clean


def items_from_delivery(
    scheme: Scheme,
    headers: Mapping[str, str],
    body: bytes,
    delivery_id: str | None,
    base_url: str = "",
    mapping: Mapping[str, str] | None = None,
) -> tuple[Item, ...]:
    """The items a delivery brings (none for events that are not announcements)."""
    if scheme is Scheme.WEBSUB:
        try:
            return parse_feed(body, base_url).items
        except NotAFeed as exc:
            raise PayloadError("the push is not a feed") from exc
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PayloadError("the body is not JSON") from exc
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object")
    lower = {k.lower(): v for k, v in headers.items()}
    if scheme is Scheme.GITHUB and mapping is None:
        return _github(lower.get("x-github-event", ""), doc)
    item = _mapped(doc, mapping or DEFAULT_MAPPING, delivery_id)
    return (item,) if item is not None else ()


def _github(event: str, doc: Mapping[str, Any]) -> tuple[Item, ...]:
    if event == "ping":
        return ()
    if event != "release" or doc.get("action") != "published":
        return ()  # drafts, edits and deletions are not announcements
    release = doc.get("release")
    if not isinstance(release, dict) or release.get("draft"):
        return ()
    repo = _at(doc, "repository.full_name")
    name = _text(release.get("name")) or _text(release.get("tag_name"))
    title = f"{repo} {name}".strip() if repo and repo not in name else name
    return (
        Item(
            guid=f"github-release:{release.get('id')}",
            title=clip(title, MAX_TITLE),
            link=http_url(release.get("html_url"), ""),
            summary=clip(_text(release.get("body")), MAX_SUMMARY),
            published=parse_date(_text(release.get("published_at"))),
            author=clip(_text(_at(release, "author.login")), MAX_AUTHOR) or None,
        ),
    )


def _mapped(
    doc: Mapping[str, Any], mapping: Mapping[str, str], delivery: str | None
) -> Item | None:
    values = {name: _at(doc, path) for name, path in mapping.items()}
    guid = values.get("guid")
    guid_text = str(guid) if isinstance(guid, str | int) and guid != "" else delivery
    title = _text(values.get("title"))
    link = http_url(values.get("link"), "")
    if not (title or link):
        return None
    return Item(
        guid=clip(guid_text, MAX_URL) if guid_text else None,
        title=clip(title, MAX_TITLE),
        link=link,
        summary=clip(_text(values.get("summary")), MAX_SUMMARY),
        published=parse_date(_text(values.get("published"))),
        author=clip(_text(values.get("author")), MAX_AUTHOR) or None,
        image=http_url(values.get("image"), ""),
    )


def _at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
