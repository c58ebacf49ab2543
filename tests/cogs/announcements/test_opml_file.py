"""On Discord a manager imports feeds from an OPML file attached to the command."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.announcements._opml import export, feed_urls
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, open_community
from tests.cogs.announcements.conftest import CONFIG, announcements, rss


@pytest.fixture
async def discord(database_url: str, public: FeedServer) -> AsyncIterator[Community]:
    """Steward with announcements on the fake Discord (Slack's slash commands carry no files)."""
    async with open_community(
        "discord", database_url, [Steward(), announcements()], config=CONFIG
    ) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


def opml(*urls: str) -> bytes:
    outlines = "".join(f'<outline text="f" xmlUrl="{u}"/>' for u in urls)
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


async def test_an_attached_opml_file_is_imported(discord: Community, public: FeedServer) -> None:
    ada = discord.people["ada"]
    blog = public.put("/blog.xml", rss("one"))
    news = public.put("/news.xml", rss("two"))

    async def attach(name: str, data: bytes, **more: str) -> str:
        seen = await discord.slash(
            ada, "announcements import", channel="#general", file=(name, data), **more
        )
        assert seen.ephemeral, seen.text
        return seen.text

    page = b"<html><body>Our feeds</body></html>"
    assert "feeds.html is not an OPML file I can read." in await attach("feeds.html", page)
    dtd = b'<!DOCTYPE opml [<!ENTITY x "y">]><opml><body/></opml>'
    assert "is not an OPML file I can read" in await attach("evil.opml", dtd)
    big = opml(blog, news) + b" " * (1024 * 1024)
    assert "big.opml is too big: I read files up to 1024 KiB." in await attach("big.opml", big)
    both = await attach("feeds.opml", opml(blog), opml=public.url("/feeds.opml"))
    assert "not both" in both
    neither = await discord.slash(ada, "announcements import", channel="#general")
    assert neither.ephemeral and "Give the web address of an OPML file" in neither.text
    assert "No feeds yet" in (await discord.slash(ada, "announcements list")).text

    imported = await attach("feeds.opml", opml(blog, news))
    assert "Following 2 new feeds" in imported
    listed = (await discord.slash(ada, "announcements list")).text
    assert f"<{blog}>" in listed and f"<{news}>" in listed


def test_an_export_reads_back_whatever_the_feeds_titles_hold() -> None:
    # A feed's title is the publisher's text: a JSON Feed may hold control characters, which
    # XML cannot carry; the export leaves them out rather than write a file no reader opens.
    feeds = [
        ("News\x01\x0b of A & B <c>", "https://a.example/f?x=1&y=2"),
        ("\x00", "https://b.example/"),
    ]
    document = export("Steward \x1f announcements", feeds)
    assert feed_urls(document) == ["https://a.example/f?x=1&y=2", "https://b.example/"]
    assert b'text="News of A &amp; B &lt;c&gt;"' in document
