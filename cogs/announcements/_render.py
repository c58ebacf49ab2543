"""An item as a destination posts it: its template filled in, as an embed or as plain text (pure).

Nothing an item says can ping: values are plain text and the whole post is neutralised; the only
ping is the role (Slack: user group) a manager named for the destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import Message, RoleRef, UserError, mention
from bot.core.markup import escape_markup
from bot.core.templates import Template, Value, neutralize_pings, parse_template, render, shorten
from cogs.announcements._items import Item
from cogs.announcements._plain import plain_text, visible
from cogs.announcements._tags import TagRule, tags_for

FIELDS = frozenset({"title", "link", "summary", "author", "date", "image", "source"})
STYLES = ("embed", "text")
DEFAULTS = {"embed": "{summary}", "text": "{title}\n{link}"}
SUMMARY_CHARS = 600
"""A summary longer than this is cut at a word with an ellipsis (``truncate`` changes it)."""
TITLE_CHARS = 256
TEXT_CHARS = 2000
LINK_CHARS = 1500
"""Longer links are left out: cut short they would lead nowhere, whole they break Discord's 2000."""
THREAD_NAME_CHARS = 100
LITERAL = frozenset({"title", "summary", "author", "source"})
"""Fields of text from the feed: shown as typed, none of their markdown active."""


@dataclass(frozen=True, slots=True)
class Look:
    """How a destination shows items: style, template, the role it may ping."""

    style: str = "embed"
    template: str = ""
    role: RoleRef | None = None
    edited: bool = False
    """The item was posted before and changed: the post says ``Updated:``."""
    tags: tuple[TagRule, ...] = ()
    """In a forum: the tags a post may carry, each with the filter that puts it on."""


def check_template(source: str) -> Template:
    """A manager's template, checked; ``UserError`` says what is wrong."""
    return parse_template(source, FIELDS, transforms=True)


def _template(look: Look) -> Template:
    try:
        return check_template(look.template or DEFAULTS[look.style])
    except UserError:  # checked when saved; a template from an older Steward falls back
        return check_template(DEFAULTS[look.style])


def _web(url: str | None) -> str:
    return url if url and len(url) <= LINK_CHARS else ""


def image_of(item: Item) -> str | None:
    """The item's image: its own, else its first image enclosure (a podcast's cover, a photo)."""
    if item.image:
        return item.image
    found = (e.url for e in item.enclosures if e.type.lower().startswith("image/"))
    return next(found, None)


def values(item: Item, source: str, tz: ZoneInfo) -> dict[str, Value]:
    """The fields a template may use, as plain text (the date as a date in ``tz``)."""
    when: datetime | None = item.published or item.updated
    return {
        "title": visible(plain_text(item.title)) or "New post",
        "link": _web(item.link),
        "summary": shorten(plain_text(item.summary), SUMMARY_CHARS),
        "author": visible(item.author or ""),
        "date": when.astimezone(tz) if when is not None else "",
        "image": _web(image_of(item)),
        "source": visible(source),
    }


def filter_values(item: Item, source: str) -> Mapping[str, str | tuple[str, ...]]:
    """The fields a filter reads: plain text, categories as a list."""
    return {
        "title": plain_text(item.title),
        "summary": plain_text(item.summary),
        "author": item.author or "",
        "categories": tuple(item.tags),
        "link": item.link or "",
        "source": source,
    }


def thread_name(item: Item) -> str:
    """A discussion's name: the item's title, cut at a word to fit."""
    title = neutralize_pings(visible(plain_text(item.title)).replace("\n", " "))
    return shorten(title, THREAD_NAME_CHARS) or "Discussion"


def post(item: Item, source: str, tz: ZoneInfo, look: Look) -> Message:
    """The message a destination posts for an item."""
    filled = values(item, source, tz)
    # In a forum the post is a thread of its own, named after the item.
    name = thread_name(item)
    name = shorten(f"Updated: {name}", THREAD_NAME_CHARS) if look.edited else name
    tags = tags_for(look.tags, filter_values(item, source))
    text = render(
        _template(look), filled, limit=TEXT_CHARS - 120, value_limit=TEXT_CHARS, literal=LITERAL
    )
    pings = frozenset({look.role}) if look.role else frozenset()
    if look.style == "text":
        if look.edited:
            text = f"Updated: {text}"
        if look.role:
            text = f"{mention(look.role)} {text}"
        return Message(text=text, ping_roles=pings, post_name=name, post_tags=tags)
    title = str(filled["title"])
    title = neutralize_pings(escape_markup(f"Updated: {title}" if look.edited else title))
    return Message(
        text=text,
        title=shorten(title, TITLE_CHARS),
        link=str(filled["link"]) or None,
        image=str(filled["image"]) or None,
        ping_roles=pings,
        post_name=name,
        post_tags=tags,
    )
