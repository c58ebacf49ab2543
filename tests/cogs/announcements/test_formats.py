"""Every real-world sample feed, served over HTTP, parses into items with stable identities."""

from __future__ import annotations

import csv
import re
from typing import Any

import pytest

from cogs.announcements._identity import item_key
from cogs.announcements._parse import NotAFeed, parse_feed
from sandbox.feeds import FeedServer
from tests.cogs.announcements.conftest import feeds_dir, fetcher_for


def manifest() -> list[tuple[str, int | None, str]]:
    """(file, expected items or None, kind) for every sample feed."""
    with (feeds_dir() / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        found = re.search(r"(\d+) items", row["notes"])
        out.append((row["file"], int(found.group(1)) if found else None, row["kind"]))
    return out


async def test_every_sample_feed_parses_with_its_items_and_stable_ids(public: FeedServer) -> None:
    urls = public.serve_dir(feeds_dir())
    rows = manifest()
    assert len(rows) == 52
    async with fetcher_for() as fetcher:
        for name, expected, kind in rows:
            first = await fetcher.get(urls[name])
            assert first.body is not None
            feed = parse_feed(first.body, first.url)
            again = await fetcher.get(urls[name])  # unconditional: the same bytes again
            assert again.body is not None
            keys = [item_key(i) for i in feed.items]
            assert keys == [item_key(i) for i in parse_feed(again.body, again.url).items], name
            if expected is None:  # the truncated JSON Feed: what came before the cut
                assert feed.recovered and len(feed.items) >= 1, name
            elif kind == "malformed":
                assert len(feed.items) >= expected, name
            else:
                assert len(feed.items) == expected, name
            for item in feed.items:
                assert item.link is None or item.link.startswith(("http://", "https://")), name
                assert len(item.title) <= 256 and len(item.summary) <= 4096


async def test_conditional_fetch_of_a_sample_feed_gets_304(public: FeedServer) -> None:
    urls = public.serve_dir(feeds_dir())
    async with fetcher_for() as fetcher:
        first = await fetcher.get(urls["rss2__guardian.xml"])
        second = await fetcher.get(urls["rss2__guardian.xml"], first.validators)
    assert first.status == 200 and first.validators.etag
    assert second.status == 304 and second.body is None and not second.modified
    assert public.not_modified == 1


def _parse(name: str, base: str = "https://example.org/feed") -> object:
    return parse_feed((feeds_dir() / name).read_bytes(), base)


def test_publishers_extensions_reach_the_item() -> None:
    youtube = parse_feed((feeds_dir() / "youtube__google.xml").read_bytes())
    assert youtube.format.startswith("atom") and youtube.items[0].image
    assert "question" in youtube.items[0].summary
    assert youtube.items[0].guid == "yt:video:5shykyfmb28"
    podcast = parse_feed((feeds_dir() / "podcast__accidental-tech-podcast.xml").read_bytes())
    assert all(i.enclosures and i.enclosures[0].url.endswith(".mp3") for i in podcast.items)
    assert podcast.items[0].enclosures[0].type == "audio/mpeg"
    guardian = parse_feed((feeds_dir() / "rss2__guardian.xml").read_bytes())
    assert guardian.items[0].image and guardian.items[0].tags
    dublin = parse_feed((feeds_dir() / "rss1__biorxiv-plant-biology.xml").read_bytes())
    assert dublin.format == "rss1" and dublin.items[0].author and dublin.items[0].published
    gulp = parse_feed(
        (feeds_dir() / "github__gulp-releases.xml").read_bytes(),
        "https://github.com/gulpjs/gulp/releases.atom",
    )
    assert gulp.items[0].link == "https://github.com/gulpjs/gulp/releases/tag/v3.9.0"
    json11 = parse_feed((feeds_dir() / "jsonfeed__fboes-journal-3960.json").read_bytes())
    assert json11.format == "json" and json11.items[0].author == "Frank Boës"
    winer = parse_feed((feeds_dir() / "rssjson__scripting-news.json").read_bytes())
    assert winer.format == "rss-in-json" and len(winer.items) == 50
    heise = parse_feed((feeds_dir() / "rss1__heise.xml").read_bytes())
    assert len(heise.items) == 60 and all(i.link for i in heise.items)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"/etc/hostname",
        b"http://127.0.0.3/secret",
        b"<html><body>hi</body></html>",
        b'{"version": 1}',
        b"[1, 2]",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
    ],
)
def test_what_is_not_a_feed_is_refused_without_being_opened(body: bytes) -> None:
    with pytest.raises(NotAFeed):
        parse_feed(body)


def test_the_parser_takes_bytes_never_a_url() -> None:
    with pytest.raises(TypeError):
        parse_feed("http://127.0.0.3/secret")  # type: ignore[arg-type]


def test_parsers_are_only_ever_handed_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastfeedparser
    import feedparser

    seen: list[str] = []

    def guard(name: str, real: Any) -> Any:
        def parse(source: object, *args: object, **kwargs: object) -> Any:
            assert not isinstance(source, str), f"{name} was handed a string: {source!r:.80}"
            seen.append(name)
            return real(source, *args, **kwargs)

        return parse

    monkeypatch.setattr(fastfeedparser, "parse", guard("fastfeedparser", fastfeedparser.parse))
    monkeypatch.setattr(feedparser, "parse", guard("feedparser", feedparser.parse))
    for name, _, _ in manifest():
        parse_feed((feeds_dir() / name).read_bytes(), "https://example.org/")
    assert {"fastfeedparser", "feedparser"} <= set(seen)


def test_a_json_feeds_lone_surrogates_become_replacement_characters() -> None:
    # JSON may escape half a surrogate pair ("\ud800"), which no database or platform accepts:
    # every text and address the feed gives is valid Unicode, the half shown as U+FFFD.
    half = "\\ud800"
    body = (
        '{"version":"https://jsonfeed.org/version/1.1","title":"Blog %s",'
        '"home_page_url":"https://e.org/%s","items":[{"id":"%s","title":"New %s",'
        '"url":"https://e.org/a%s","summary":"s%s","authors":[{"name":"A%s"}],"tags":["t%s"],'
        '"attachments":[{"url":"https://e.org/f%s.mp3","mime_type":"audio/%s"}]}]}'
    ) % ((half,) * 10)
    feed = parse_feed(body.encode())
    item = feed.items[0]
    texts = [feed.title, feed.link, item.guid, item.title, item.link, item.summary, item.author]
    texts += [*item.tags, item.enclosures[0].url, item.enclosures[0].type]
    assert all(isinstance(t, str) and "\ufffd" in t and t.encode("utf-8") for t in texts)
    assert item.title == "New \ufffd"
