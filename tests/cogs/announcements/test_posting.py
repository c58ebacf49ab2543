"""Members see a feed's new items in the channel: once each, and pinging nobody."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from bot.core.markup import unescape_markup
from cogs.announcements._items import Item
from cogs.announcements._render import Look, post
from sandbox.discord.permissions import Permission
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity
from tests.cogs.announcements.conftest import discussion_of, relayed, rss


async def test_a_new_item_is_posted_once_and_opens_a_discussion(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("two", "one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    assert relayed(community) == []  # the first fetch posts nothing
    public.put("/blog.xml", rss("three", "two", "one"))
    await community.advance(minutes=11)
    [post] = relayed(community)
    if isinstance(community, DiscordCommunity):
        [embed] = post.raw.embeds
        assert (embed["title"], embed["url"]) == ("three", "https://e.org/three")
    else:
        assert post.text == "*<https://e.org/three|three>*"
    name, inside = discussion_of(community, post)
    assert [m.text for m in inside] == ["What do you think?"]
    assert name in (None, "three")  # Discord names the thread after the item
    public.put("/blog.xml", rss("three", "two", "one") + b"\n<!-- rebuilt -->")
    await community.advance(minutes=22)  # polled twice more: the same item is not new
    assert len(relayed(community)) == 1
    checked = await community.slash(ada, "announcements check", feed="1")
    assert checked.text.endswith("Latest in the log:\n• three: posted")


async def test_an_item_that_tries_to_ping_pings_nobody(
    community: Community, public: FeedServer
) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    before = {name: len(community.pings_of(p)) for name, p in community.people.items()}
    loud = f"Big news @everyone @here {community.mention(alice)} <@{alice.id}> <!channel> <!here>"
    item = (
        f"<item><guid>loud</guid><title>{escape(loud)}</title>"
        "<link>https://e.org/loud</link></item>"
    )
    public.put(
        "/blog.xml", f"<rss version='2.0'><channel><title>B</title>{item}</channel></rss>".encode()
    )
    await community.advance(minutes=11)
    [post] = relayed(community)
    assert "Big news" in post.text
    after = {name: len(community.pings_of(p)) for name, p in community.people.items()}
    assert after == before


async def test_a_post_the_platform_refuses_is_logged_as_failed(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        general = community.guild.channel_named("general")
        fake.set_overwrite(general, fake.bot, deny=Permission.SEND_MESSAGES)
    else:
        general = community.channels["general"]
        await fake.leaves(fake.world.teams[general.team_id].bot_user_id, general)
    await community.settle()
    public.put("/blog.xml", rss("two", "one"))
    await community.advance(minutes=11)
    assert relayed(community) == []
    checked = await community.slash(ada, "announcements check", feed="1")
    assert "• two: failed (" in checked.text, checked.text


def test_a_post_fits_every_platform_however_long_the_item() -> None:
    huge = Item(guid="k", title="T" * 256, link="https://e.org/" + "x" * 2030)
    text = post(huge, "Blog", ZoneInfo("UTC"), Look("text")).text
    assert text == "T" * 256 + "\n"  # a cut link would lead nowhere: left out
    fair = Item(guid="k", title=" ", link="https://e.org/a")
    edited = post(fair, "Blog", ZoneInfo("UTC"), Look("text", edited=True))
    assert edited.text == "Updated: New post\nhttps://e.org/a"


async def test_an_items_html_summary_and_image_are_shown_safely(
    community: Community, public: FeedServer
) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    summary = escape(
        f"<p>Big <b>news</b> for @everyone and <@{alice.id}>.</p><script>steal()</script>"
        "<p>Read\u200b more\u202e.</p>"
    )
    item = (
        "<item><guid>pic</guid><title>With a picture</title><link>https://e.org/pic</link>"
        f"<description>{summary}</description>"
        '<enclosure url="https://e.org/pic.png" type="image/png" length="10"/></item>'
    )
    public.put(
        "/blog.xml", f"<rss version='2.0'><channel><title>B</title>{item}</channel></rss>".encode()
    )
    before = len(community.pings_of(alice))
    await community.advance(minutes=11)
    [post] = relayed(community)
    # Discord shows the escaped ``\<`` as ``<``: a mention that is plain text, pinging nobody.
    assert "Big news for @\u200beveryone and <\u200b@" in unescape_markup(post.text)
    assert "steal" not in post.text and "<b>" not in post.text and "\u202e" not in post.text
    assert "Read more." in post.text
    if isinstance(community, DiscordCommunity):
        [embed] = post.raw.embeds
        assert embed["image"]["url"] == "https://e.org/pic.png"
    else:
        images = [b for b in post.raw.data["blocks"] if b["type"] == "image"]
        assert [b["image_url"] for b in images] == ["https://e.org/pic.png"]
    assert len(community.pings_of(alice)) == before


# Only on Discord: Slack threads need no permission: a reply opens one.
@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_without_thread_permission_posts_go_on_and_the_staff_hear_once(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    mods = community.channel_mention("mods")
    await community.slash(
        ada, "steward settings set", feature="steward", key="staff_channel", value=mods
    )
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    general = community.guild.channel_named("general")
    community.fake.set_overwrite(general, community.fake.bot, deny=Permission.CREATE_PUBLIC_THREADS)
    await community.settle()
    public.put("/blog.xml", rss("three", "two", "one"))
    await community.advance(minutes=11)
    posts = relayed(community)
    assert len(posts) == 2 and all(discussion_of(community, p) == (None, []) for p in posts)
    [alert] = [m for m in community.messages_in("mods") if "discussion thread" in m.text]
    assert alert.text.startswith("Announcements couldn't open a discussion thread. Discord didn't")
    assert alert.text.endswith("Posts go on without discussions until I may open threads there.")
