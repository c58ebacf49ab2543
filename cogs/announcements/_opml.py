"""OPML in and out: the list of feeds a community follows, as feed readers exchange it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from cogs.announcements._xmlsafe import UnsafeXml, parse_small_xml

MAX_OUTLINES = 200
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE and U+FFFF)."""


def feed_urls(body: bytes) -> list[str]:
    """The ``xmlUrl`` of every outline (nested ones too), in order, without repeats."""
    root = parse_small_xml(body)
    if root.tag != "opml":
        raise UnsafeXml("not OPML")
    urls: list[str] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if url and url not in urls:
            urls.append(url)
        if len(urls) >= MAX_OUTLINES:
            break
    return urls


def export(title: str, feeds: Iterable[tuple[str, str]]) -> bytes:
    """An OPML 2.0 document of (title, url) pairs."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for name, url in feeds:
        lines.append(
            f'    <outline type="rss" text={quoteattr(_xml(name or url))}'
            f" xmlUrl={quoteattr(_xml(url))}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _xml(value: str) -> str:
    """``value`` without the characters XML cannot carry (a feed's title may hold them)."""
    return _NOT_XML.sub("", value)


def _text(value: str) -> str:
    return _xml(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
