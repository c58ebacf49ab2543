"""A page or a profile works as well as a feed address: Steward finds the feed behind it."""

from __future__ import annotations

import pytest

from cogs.announcements._discover import alternates, known_feed
from cogs.announcements._source import find_feed
from sandbox.feeds import FeedServer
from tests.cogs.announcements.conftest import fetcher_for

FEED = b"<rss><channel><title>Blog</title><item><guid>1</guid></item></channel></rss>"


@pytest.mark.parametrize(
    ("pasted", "feed"),
    [
        (
            "https://www.youtube.com/channel/UCK8sQmJBp8GCxrOtXWBpyEA",
            "https://www.youtube.com/feeds/videos.xml?channel_id=UCK8sQmJBp8GCxrOtXWBpyEA",
        ),
        (
            "https://youtube.com/playlist?list=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs",
            "https://www.youtube.com/feeds/videos.xml?playlist_id=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs",
        ),
        ("https://mastodon.social/@Gargron", "https://mastodon.social/@Gargron.rss"),
        ("https://fosstodon.org/@python/", "https://fosstodon.org/@python.rss"),
        ("https://bsky.app/profile/bsky.app", "https://bsky.app/profile/bsky.app/rss"),
        ("https://www.reddit.com/r/Python/", "https://www.reddit.com/r/Python/.rss"),
        ("r/rust", "https://www.reddit.com/r/rust/.rss"),
        ("https://github.com/gulpjs/gulp", "https://github.com/gulpjs/gulp/releases.atom"),
        ("https://github.com/gulpjs/gulp/releases", "https://github.com/gulpjs/gulp/releases.atom"),
        ("https://www.youtube.com/@Google", None),
        ("https://example.org/blog/", None),
        ("ftp://github.com/a/b", None),
    ],
)
def test_known_sites_give_their_feed(pasted: str, feed: str | None) -> None:
    assert known_feed(pasted) == feed


def test_a_page_names_its_feeds() -> None:
    page = b"""<html><head>
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml">
      <link rel="alternate" type="application/feed+json" href="https://example.org/feed.json">
      <link rel="alternate" type="text/html" href="/fr/">
      <link rel="alternate" type="application/atom+xml" href="javascript:alert(1)">
    </head><body><p>Hi <unclosed</body></html>"""
    assert alternates(page, "https://example.org/blog/") == [
        "https://example.org/feed.xml",
        "https://example.org/feed.json",
    ]


async def test_pasting_a_page_follows_the_feed_it_advertises(public: FeedServer) -> None:
    feed_url = public.put("/feed.xml", FEED)
    page = public.put(
        "/blog/",
        b'<head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>',
        content_type="text/html",
    )
    internal = public.put(
        "/tricky/",
        b'<link rel="alternate" type="application/rss+xml" href="http://127.0.0.3/feed.xml">',
        content_type="text/html",
    )
    async with fetcher_for() as fetcher:
        found, reading = await find_feed(fetcher, page)
        assert found == feed_url and reading.feed is not None and reading.feed.title == "Blog"
        direct, _ = await find_feed(fetcher, feed_url)
        assert direct == feed_url
        refused, bad = await find_feed(fetcher, internal)
    assert refused == internal and bad.error is not None and bad.feed is None
