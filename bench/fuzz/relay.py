"""Fuzz targets for the relay (cogs/announcements): route filters and forum tags, OPML in and
out, webhook bodies, WebSub discovery."""

from __future__ import annotations

import json

from bench.fuzz.common import fields, friendly, no_ping, pick, sendable


def route_filter(data: bytes) -> None:
    """A manager's filter (and forum tags): read or refused in words; a read one prints back to
    itself and judges any item without failing."""
    from bot.core.errors import UserError
    from cogs.announcements._filters import FilterError, explain, parse, show
    from cogs.announcements._tags import parse_tags, read_stored, stored, tags_for

    text, title, category = fields(data, 3)
    values = {"title": title, "summary": title, "categories": (category, title), "link": category}
    try:
        found = parse(text)
    except FilterError as exc:
        friendly(exc.message, "a filter's refusal")
    else:
        if found is not None:
            again = parse(show(found))
            assert again == found, f"{show(found)!r} reads back as {again!r}, not {found!r}"
            _, why = explain(found, values)
            no_ping(why, "a filter's explanation")
    try:
        rules = parse_tags(text)
    except UserError as exc:
        friendly(exc.message, "a tag rule's refusal")
    else:
        assert parse_tags(stored(rules)) == rules, f"{stored(rules)!r} does not read back"
        tags_for(rules, values)
    tags_for(read_stored(text), values)


def opml(data: bytes) -> None:
    """Any upload: feed addresses or a refusal; an export reads back to the addresses it lists,
    whatever the feeds' titles hold."""
    from cogs.announcements._fetch import FetchError, check_url
    from cogs.announcements._opml import MAX_OUTLINES, export, feed_urls
    from cogs.announcements._xmlsafe import UnsafeXml

    choice, rest = pick(data, 2)
    if choice == 0:
        try:
            urls = feed_urls(rest)
        except UnsafeXml:
            return
        assert len(urls) <= MAX_OUTLINES and len(set(urls)) == len(urls)
        return
    title, *pairs = fields(rest, 7)
    feeds = []
    for name, url in zip(pairs[::2], pairs[1::2], strict=True):
        try:
            feeds.append((name, str(check_url(url))))
        except FetchError:
            continue
    document = export(title, feeds)
    wanted = list(dict.fromkeys(url.strip() for _, url in feeds if url.strip()))
    try:
        got = feed_urls(document)
    except UnsafeXml as exc:
        raise AssertionError(
            f"Steward's own export does not read back: {document[:300]!r}"
        ) from exc
    assert got == wanted, f"the export lists {got!r}, not {wanted!r}"


def webhook_body(data: bytes) -> None:
    """A signed delivery's body, with any mapping a manager set: items or a refusal; the items'
    text is valid Unicode and their posts ping nobody."""
    from zoneinfo import ZoneInfo

    from bot.core.errors import UserError
    from cogs.announcements._payloads import PayloadError, items_from_delivery
    from cogs.announcements._render import Look, post, thread_name
    from cogs.announcements._signatures import Scheme
    from cogs.announcements._webhooks import parse_mapping

    choice, rest = pick(data, 4)
    scheme = (Scheme.GITHUB, Scheme.STANDARD, Scheme.WEBSUB, Scheme.GITHUB)[choice]
    event, mapping_text, body = fields(rest, 3)
    mapping = None
    if choice == 3 or mapping_text:
        try:
            mapping = parse_mapping(mapping_text)
        except UserError as exc:
            friendly(exc.message, "a mapping's refusal")
    headers = {"X-GitHub-Event": event or "release", "Content-Type": "application/json"}
    raw = body.encode("utf-8", "surrogatepass")
    try:
        items = items_from_delivery(
            scheme, headers, raw, "delivery-1", "https://example.org/", mapping
        )
    except PayloadError:
        return
    utc = ZoneInfo("UTC")
    for item in items[:20]:
        sendable((item.title, item.summary, item.author, item.link, item.guid), "a delivery's item")
        no_ping(thread_name(item), "a delivery's thread")
        for style in ("text", "embed"):
            message = post(item, "webhook", utc, Look(style=style))
            for text in (message.text, message.title or ""):
                no_ping(text, "a delivery's post")


def websub(data: bytes) -> None:
    """A fetched feed's hub links (XML or JSON): an http(s) hub and topic, or none."""
    from cogs.announcements._websub import find_hub

    choice, rest = pick(data, 2)
    if choice == 1:
        (text,) = fields(rest, 1)
        rest = json.dumps({"hubs": [{"type": "WebSub", "url": text}], "feed_url": text}).encode()
    hub = find_hub(rest, "https://example.org/feed")
    if hub is not None:
        for url in (hub.hub, hub.topic):
            assert url.startswith(("https://", "http://")) and len(url) <= 2048, url
