"""The one shape every source becomes: a feed of items, whatever format or webhook it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

# Caps from the security study: a feed may be hostile, so nothing it says is unbounded.
MAX_ITEMS = 1500
MAX_TITLE = 256
MAX_SUMMARY = 4096
MAX_URL = 2048
MAX_AUTHOR = 256
MAX_TAGS = 20


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file attached to an item: a podcast episode, a video, an image."""

    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One announcement, normalised: the fields a manager can compare, filter and post."""

    guid: str | None
    title: str
    link: str | None
    summary: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    image: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: its own title and link, its items newest first as published, and caveats."""

    format: str
    title: str
    link: str | None
    items: tuple[Item, ...]
    hub: str | None = None
    recovered: bool = False
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())


_HALF_PAIR = re.compile("[\ud800-\udfff]")


def whole(text: str) -> str:
    """``text`` with any half of a surrogate pair (JSON can escape one: ``"\\ud800"``) as
    U+FFFD: no database or platform takes a lone surrogate."""
    return _HALF_PAIR.sub("\ufffd", text)


def clip(text: str | None, limit: int) -> str:
    """``text`` stripped and cut to ``limit`` characters (an ellipsis marks a cut)."""
    if not text:
        return ""
    text = whole(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def http_url(value: Any, base: str) -> str | None:
    """An absolute http(s) URL resolved against ``base``, or None (never javascript: or data:)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = whole(value).strip()
    try:
        url = urljoin(base, text) if base else text
    except ValueError:
        return None
    if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        return None
    return url
