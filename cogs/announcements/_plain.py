"""A publisher's HTML summary as safe plain text: no markup, no invisible characters (pure).

The standard library's ``HTMLParser`` reads the tags (it is lenient like a browser and never
fetches anything); text inside ``script``/``style`` is dropped, block elements become line breaks,
entities are decoded, and format and control characters (zero-width spaces, bidi overrides) are
removed so that nothing hides or reorders what members read. Pings are neutralised later, on the
whole rendered post.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "blockquote",
        "pre",
        "hr",
        "table",
        "section",
        "article",
        "figure",
        "figcaption",
    }
)
_HIDDEN = frozenset({"script", "style", "template", "noscript", "head", "title", "iframe"})
_KEEP = frozenset({"\n", "\u200d"})  # line breaks, and the joiner inside emoji sequences
_SPACES = re.compile(r"[ \t\f\v\r\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BREAKS = re.compile(r"\s*\n\s*(?:\n\s*)+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def visible(text: str) -> str:
    """``text`` without format and control characters (line breaks and emoji joiners stay)."""
    return "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cf", "Cc", "Co")
    )


def plain_text(html: str) -> str:
    """The readable text of an HTML fragment, paragraphs kept as single blank lines."""
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # a malformed declaration: keep what was read
        pass
    lines = _SPACES.sub(" ", visible("".join(parser.out).replace("\r", "\n")))
    lines = "\n".join(line.strip() for line in lines.split("\n"))
    return _BREAKS.sub("\n\n", lines).strip()
