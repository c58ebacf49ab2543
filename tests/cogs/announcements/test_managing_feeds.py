"""A manager follows, lists, checks, pauses, resumes, exports, imports and removes feeds."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from bot.builtin import Steward
from sandbox.discord.permissions import Permission
from sandbox.feeds import FeedServer
from sandbox.scenario import (
    Community,
    DiscordCommunity,
    SlackCommunity,
    start_steward,
    stop_steward,
)
from tests.cogs.announcements.conftest import announcements, relayed, rss


async def test_manager_follows_a_feed_and_new_items_are_posted(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("three", "two", "one"))
    added = await community.slash(ada, "announcements add", url=url, channel="#general")
    assert added.ephemeral
    assert "Following Brand blog (RSS) as feed 1" in added.text
    assert "Items already there (3 items) are not posted" in added.text
    again = await community.slash(ada, "announcements add", url=url, channel="#general")
    assert "I already follow" in again.text

    public.put("/blog.xml", rss("four", "three", "two", "one"))
    await community.advance(minutes=11)
    checked = await community.slash(ada, "announcements check", feed="1")
    assert checked.ephemeral and "Brand blog: an RSS feed with 4 items." in checked.text
    assert "Nothing new to post." in checked.text
    assert checked.text.endswith("Latest in the log:\n• four: posted")

    listed = await community.slash(ada, "announcements list")
    assert f"1. Brand blog <{url}>: every 10 min" in listed.text

    paused = await community.slash(ada, "announcements pause", feed="1")
    assert "Paused feed 1" in paused.text
    before = public.requests["/blog.xml"]
    public.put("/blog.xml", rss("five", "four", "three", "two", "one"))
    await community.advance(minutes=30)
    assert public.requests["/blog.xml"] == before  # a paused feed is not fetched
    assert "paused (paused by a manager" in (await community.slash(ada, "announcements list")).text
    await community.slash(ada, "announcements resume", feed=url)
    await community.advance(minutes=1)
    assert "• five: posted" in (await community.slash(ada, "announcements check", feed="1")).text

    exported = await community.slash(ada, "announcements export")
    assert "1 feed, as OPML." in exported.text
    opml = (
        f'<opml version="2.0"><body><outline xmlUrl="{url}"/>'
        f'<outline xmlUrl="{public.put("/news.json", b"{}")}"/>'
        '<outline xmlUrl="file:///etc/passwd"/></body></opml>'
    ).encode()
    imported = await community.slash(
        ada, "announcements import", opml=public.put("/feeds.opml", opml), channel="#general"
    )
    assert "Following 1 new feeds" in imported.text and "Left out 2" in imported.text
    removed = await community.slash(ada, "announcements remove", feed="1")
    assert "Removed feed 1" in removed.text
    assert url not in (await community.slash(ada, "announcements list")).text


async def test_every_bad_input_gets_a_plain_answer(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    page = public.put("/page.html", b"<html><body>Hello</body></html>", content_type="text/html")
    cases = {
        "not a url": "is not a web address I can fetch",
        "ftp://example.org/feed": "is not a web address I can fetch",
        "https://exa\x0emple.org/feed": "is not a web address I can fetch",
        f"http://127.0.0.3:{public.port}/feed": "the address is on a private or internal network",
        "http://169.254.169.254/latest/meta-data/": "private or internal network",
        page: "is not a feed I can read",
        public.url("/missing.xml"): "the server answered with an error (HTTP 404)",
    }
    for url, words in cases.items():
        seen = await community.slash(ada, "announcements add", url=url, channel="#general")
        assert seen.ephemeral and words in seen.text, (url, seen.text)
        assert "error " not in seen.text.lower().replace("with an error", "")
    unknown = await community.slash(ada, "announcements pause", feed="42")
    assert "I don't follow a feed '42'" in unknown.text
    for number in ("²", "1" * 30):  # a digit to str.isdigit, and more than a database holds
        unknown = await community.slash(ada, "announcements pause", feed=number)
        assert f"I don't follow a feed '{number}'" in unknown.text, unknown.text
        checked = await community.slash(ada, "announcements check", feed=number)
        assert "error" not in checked.text.lower(), checked.text
    bad_first = await community.slash(
        ada,
        "announcements add",
        url=public.put("/f.xml", rss("a")),
        channel="#general",
        first="all",
    )
    assert "`first` is either `nothing` or `newest`" in bad_first.text
    assert "No feeds yet" in (await community.slash(ada, "announcements list")).text
    feed = public.put("/blog/feed.xml", rss("a"))
    home = public.put(
        "/blog/",
        b'<html><head><link rel="alternate" type="application/rss+xml" href="feed.xml"></head>',
        content_type="text/html",
    )
    found = await community.slash(ada, "announcements add", url=home, channel="#general")
    assert "Following Brand blog (RSS) as feed" in found.text
    assert f"<{feed}>" in (await community.slash(ada, "announcements list")).text


async def test_a_feed_that_keeps_failing_is_paused_with_the_reason(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    mods = community.channel_mention("mods")
    await community.slash(
        ada, "steward settings set", feature="steward", key="staff_channel", value=mods
    )
    url = public.put("/flaky.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    del public.documents["/flaky.xml"]
    for _ in range(6):
        await community.advance(minutes=11)
    listed = await community.slash(ada, "announcements list")
    assert "paused (I paused the feed" in listed.text
    assert "failed 3 times in a row" in listed.text and "HTTP 404" in listed.text
    assert f"/announcements resume {url}" in listed.text
    [told] = [m for m in community.dms_of(ada) if "I paused the feed" in m.text]
    assert "failed 3 times in a row" in told.text and "HTTP 404" in told.text
    [alert] = [m for m in community.messages_in("mods") if "I paused the feed" in m.text]
    assert alert.text.startswith("Announcements: I paused the feed")
    assert f"/announcements resume {url}" in alert.text


async def test_a_restart_posts_nothing_again(community: Community, public: FeedServer) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("two", "one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    public.put("/blog.xml", rss("three", "two", "one"))
    await community.advance(minutes=11)
    await stop_steward(community)
    # New bytes, same ids: the new process must parse them and still find nothing new.
    public.put("/blog.xml", rss("three", "two", "one") + b"\n<!-- rebuilt -->")
    first = community.app
    await start_steward(community, [Steward(), announcements()])
    try:
        before = public.requests["/blog.xml"]
        await community.advance(minutes=11)
        assert public.requests["/blog.xml"] == before + 1
        checked = await community.slash(ada, "announcements check", feed="1")
        assert "Nothing new to post." in checked.text
        assert checked.text.endswith("Latest in the log:\n• three: posted")
        posts = [m.text for m in relayed(community)]
        assert len(posts) == 1 and "three" in posts[0]  # posted before the restart, not again
    finally:
        await community.app.stop()
        community.app = first  # stopped already; the fixture stops it again, harmlessly


async def test_a_channel_steward_cannot_post_in_is_refused(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        hidden = fake.add_channel(community.guild, "secret")
        fake.set_overwrite(hidden, fake.bot, deny=Permission.VIEW_CHANNEL)
    else:
        assert isinstance(community, SlackCommunity)
        hidden = fake.add_channel("secret", members=[ada.account], bot_member=False)
        community.channels["secret"] = hidden
    await community.settle()
    url = public.put("/blog.xml", rss("one"))
    refused = await community.slash(ada, "announcements add", url=url, channel="#secret")
    assert refused.ephemeral and "I can't post in that channel" in refused.text
    assert "No feeds yet" in (await community.slash(ada, "announcements list")).text


def dated(now: datetime, *items: tuple[str, str, int]) -> bytes:
    """A feed of (guid, title, days before ``now``) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>https://e.org/{g}</link>"
        f"<pubDate>{format_datetime(now - timedelta(days=age))}</pubDate></item>"
        for g, t, age in items
    )
    return f"<rss version='2.0'><channel><title>Brand blog</title>{body}</channel></rss>".encode()


async def test_edits_are_re_announced_and_old_items_skipped_as_the_manager_sets(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    now = community.clock.now()
    url = public.put("/blog.xml", dated(now, ("a", "First", 1)))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    tuned = await community.slash(
        ada,
        "announcements set",
        feed="1",
        every=timedelta(minutes=30),
        max_age=timedelta(days=2),
        compare="title",
    )
    assert tuned.text == (
        "Feed 1: checked every 30 minutes; new items older than 2 days are skipped; "
        "an item is posted again when its title changes."
    )
    public.put(
        "/blog.xml", dated(now, ("c", "Archive", 9), ("b", "Second", 0), ("a", "First, updated", 1))
    )
    await community.advance(minutes=31)
    log = (await community.slash(ada, "announcements check", feed="1")).text
    assert log.endswith(
        "Latest in the log:\n• Archive: skipped (older than the feed's maximum age)\n"
        "• First, updated: posted (edited)\n• Second: posted"
    )
    posts = [m.text.replace("*", "") for m in relayed(community)]
    # The embed's title (Discord), the title linked (Slack).
    assert [p.rsplit("|", 1)[-1].rstrip(">") for p in posts] == [
        "Second",
        "Updated: First, updated",
    ]
    for bad, words in [
        ({"every": timedelta(seconds=30)}, "I check a feed at most every 2 minutes."),
        ({"compare": "colour"}, "I can't compare colour: pick from title, summary"),
    ]:
        refused = await community.slash(ada, "announcements set", feed="1", **bad)
        assert refused.ephemeral and words in refused.text
