"""Members see a feed's new items in the channel: once each, and pinging nobody."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from cogs.announcements._deliver import post_message
from cogs.announcements._models import AnnouncementLog
from sandbox.discord.permissions import Permission
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity, Posted
from tests.cogs.announcements.conftest import rss


def relayed(community: Community) -> list[Posted]:
    """The feed's posts members see in #general."""
    return [m for m in community.messages_in("general") if "https://e.org/" in m.text]


async def test_a_new_item_is_posted_once_in_the_channel(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("two", "one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    assert relayed(community) == []  # the first fetch posts nothing
    public.put("/blog.xml", rss("three", "two", "one"))
    await community.advance(minutes=11)
    [post] = relayed(community)
    assert post.text == "three\nhttps://e.org/three"
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
    assert post.text.startswith("Big news") and post.text.endswith("https://e.org/loud")
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
    huge = AnnouncementLog(
        feed_id=1,
        item_key="k",
        title="T" * 256,
        link="https://e.org/" + "x" * 2030,
        outcome="pending",
    )
    text = post_message(huge).text
    assert len(text) <= 2000 and text == "T" * 256  # a cut link would lead nowhere: left out
    fair = AnnouncementLog(
        feed_id=1, item_key="k", title=" ", link="https://e.org/a", outcome="edited"
    )
    assert post_message(fair).text == "Updated: New post\nhttps://e.org/a"
