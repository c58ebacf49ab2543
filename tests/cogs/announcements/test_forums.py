"""A route into a Discord forum: each item becomes a post named after it, carrying the forum's tags
its filters choose; the post is the discussion, and its replies count in the stats. Slack has no
forums, and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.builtin import Steward
from bot.core import ChannelRef, CommunityRef, Forum, UserError
from cogs.announcements._filters import parse
from cogs.announcements._tags import TagRule, check_destination, parse_tags
from sandbox.discord.permissions import Permission
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity, open_community
from tests.cogs.announcements.conftest import CONFIG, announcements
from tests.conftest import shared_dir

TAGS = "News; Release: title contains 'release'; Security: categories equals 'security'"


def feed(*items: tuple[str, str]) -> bytes:
    """A feed of (title, category) items, newest first."""
    body = "".join(
        f"<item><guid>{t}</guid><title>{t}</title><link>https://e.org/{i}</link>"
        + (f"<category>{c}</category>" if c else "")
        + "</item>"
        for i, (t, c) in enumerate(items)
    )
    return f"<rss version='2.0'><channel><title>Brand blog</title>{body}</channel></rss>".encode()


def posts_in(community: DiscordCommunity, forum: Any) -> dict[str, tuple[list[str], list[Any]]]:
    """The forum's posts as members see them: name -> (tag names, messages inside)."""
    world = community.fake.world
    names = {t["id"]: t["name"] for t in forum.available_tags}
    return {
        str(c.name): ([names[t] for t in c.applied_tags], community.fake.messages_in(c))
        for c in world.channels.values()
        if c.parent_id == forum.id
    }


async def test_each_item_becomes_a_forum_post_with_the_tags_its_filters_choose(
    talking: Community, public: FeedServer
) -> None:
    community = talking
    ada, alice = community.people["ada"], community.people["alice"]
    url = public.put("/blog.xml", feed(("one", "")))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    if not isinstance(community, DiscordCommunity):
        shown = await community.slash(
            ada, "announcements route add", feed="1", channel="#welcome", tags=TAGS
        )
        assert shown.ephemeral and shown.text == (
            "Slack has no forum channels, so posts there carry no tags: leave `tags` off."
        )
        return
    fake, guild = community.fake, community.guild
    forum = fake.add_channel(guild, "releases", type=15, tags=["News", "Release", "Security"])
    await community.settle()
    added = await community.slash(
        ada, "announcements route add", feed="1", channel="#releases", tags=TAGS
    )
    assert added.text.startswith("Added route 2: feed 1 (Brand blog) → "), added.text
    assert "; tags News; Release: title contains 'release'; Security: categories equals" in (
        added.text
    )
    public.put(
        "/blog.xml", feed(("Steward release 2.0", "security"), ("Meetup notes", ""), ("one", ""))
    )
    await community.advance(minutes=11)
    posts = posts_in(community, forum)
    assert sorted(posts) == ["Meetup notes", "Steward release 2.0"]
    tags, inside = posts["Steward release 2.0"]
    assert tags == ["News", "Release", "Security"]
    first, opening = inside
    assert first.embeds[0]["title"] == "Steward release 2.0" and first.author_id == fake.bot.id
    assert opening.content == "What do you think?"
    assert posts["Meetup notes"][0] == ["News"]
    assert fake.messages_in(forum) == []  # nothing is posted in the forum itself
    preview = await community.slash(ada, "announcements preview", route="2")
    assert preview.texts[0].endswith(
        "It opens a forum post named “Steward release 2.0” (tags: News, Release, Security)."
    ), preview.texts

    # The post is the discussion: a member's reply there counts for the announcement.
    thread = next(c for c in fake.world.channels.values() if c.name == "Steward release 2.0")
    await community.advance(minutes=2)
    await fake.user_says(alice.account, thread, "Does it fix the login bug?")
    await community.settle()
    await community.advance(minutes=10)
    stats = await community.slash(ada, "announcements stats", period="7d")
    assert "“Steward release 2.0” (Brand blog): 1 reply from 1 member" in stats.text, stats.text


@pytest.fixture
async def discord(database_url: str, public: FeedServer) -> AsyncIterator[DiscordCommunity]:
    """Steward with the relay on Discord (forums are Discord's)."""
    shared_dir()
    features = [Steward(), announcements()]
    async with open_community("discord", database_url, features, config=CONFIG) as running:
        assert isinstance(running, DiscordCommunity)
        yield running
        fake = running.fake
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_forum_tags_are_checked_against_the_forum_when_saved(
    discord: DiscordCommunity, public: FeedServer
) -> None:
    community = discord
    ada = community.people["ada"]
    fake, guild = community.fake, community.guild
    url = public.put("/blog.xml", feed(("one", "")))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    fake.add_channel(guild, "strict", type=15, tags=["News", "Release"], require_tag=True)
    await community.settle()
    for channel, tags, says in (
        ("#strict", "Releases: title contains 'v'", "has no tag “Releases”. Its tags: “News”"),
        ("#strict", "Release: title contains 'v'", "requires a tag on every post: give the route"),
        ("#strict", "", "requires a tag on every post"),
        ("#strict", "News: titel contains 'x'", "The filter of tag “News” doesn't read"),
        ("#welcome", "News", "Tags are for forum channels and <#"),
    ):
        shown = await community.slash(
            ada, "announcements route add", feed="1", channel=channel, tags=tags
        )
        assert shown.ephemeral and says in shown.text, shown.text
    listed = await community.slash(ada, "announcements route list")
    assert "\n" not in listed.text  # nothing was saved
    added = await community.slash(
        ada,
        "announcements route add",
        feed="1",
        channel="#strict",
        tags="news; Release: title contains 'v'",
    )
    assert "tags news; Release: title contains 'v'" in added.text
    # route set checks tags the same way.
    refused = await community.slash(
        ada, "announcements route set", route="2", field="tags", value="Release"
    )
    assert refused.text.startswith("Changed route 2")
    refused = await community.slash(
        ada, "announcements route set", route="2", field="tags", value="Release: title contains 'v'"
    )
    assert "requires a tag on every post" in refused.text


async def test_a_forum_post_the_platform_refuses_is_logged_with_why(
    discord: DiscordCommunity, public: FeedServer
) -> None:
    community = discord
    ada = community.people["ada"]
    fake, guild = community.fake, community.guild
    url = public.put("/blog.xml", feed(("one", "")))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    forum = fake.add_channel(guild, "releases", type=15, tags=["News"])
    await community.settle()
    await community.slash(
        ada, "announcements route add", feed="1", channel="#releases", tags="News"
    )
    titles = ["one"]

    async def arrives(title: str) -> str:
        """A new item comes: what the log says of it in the forum's route."""
        titles.insert(0, title)
        public.put("/blog.xml", feed(*((t, "") for t in titles)))
        await community.advance(minutes=11)
        logged = (await community.slash(ada, "announcements log")).text
        return next(line for line in logged.split("\n") if f"“{title}” → route 2 (<#" in line)

    def made() -> list[str]:
        return [str(c.name) for c in fake.world.channels.values() if c.parent_id == forum.id]

    # The server's managers make a tag required and drop the route's one: Discord refuses.
    fake.set_forum_tags(forum, ["Other"], require_tag=True)
    await community.settle()
    assert (await arrives("two")).endswith(
        "): failed (Discord refused the post's tags: #releases now requires a tag on every post "
        "and none of the route's tags applied.)"
    )
    # Without Send Messages in the forum Steward may not open posts there.
    fake.set_forum_tags(forum, ["News"], require_tag=True)
    fake.set_overwrite(forum, fake.bot, deny=Permission.SEND_MESSAGES)
    await community.settle()
    assert "): failed (Discord didn't let me open a post there" in await arrives("three")
    assert made() == []
    fake.set_overwrite(forum, fake.bot)
    await community.settle()
    assert (await arrives("four")).endswith(": posted") and made() == ["four"]

    # The forum keeps the route's tag for moderators, and Steward lacks Manage Threads there.
    fake.set_forum_tags(forum, ["News"], require_tag=True, moderated=["News"])
    fake.set_overwrite(forum, fake.bot, deny=Permission.MANAGE_THREADS)
    await community.settle()
    assert (await arrives("five")).endswith(
        "): failed (Discord refused the post's tags: #releases keeps the tag “News” for "
        "moderators, and I lack Manage Threads there.)"
    )
    # A tag removed a moment ago, before Discord's word of it reached Steward: "Unknown tag".
    fake.set_overwrite(forum, fake.bot)
    fake.set_forum_tags(forum, ["News"], require_tag=False)
    await community.settle()
    forum.available_tags = [{**forum.available_tags[0], "id": fake.world.new_id()}]
    assert (await arrives("six")).endswith(
        "): failed (Discord refused the post's tags: #releases no longer has one of the "
        "route's tags.)"
    )
    assert made() == ["four"]


async def test_a_forum_that_keeps_refusing_the_routes_tags_pauses_it_until_resumed(
    discord: DiscordCommunity, public: FeedServer
) -> None:
    community = discord
    ada = community.people["ada"]
    fake, guild = community.fake, community.guild
    await community.slash(
        ada,
        "steward settings set",
        feature="steward",
        key="staff_channel",
        value=community.channel_mention("mods"),
    )
    url = public.put("/blog.xml", feed(("one", "")))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    forum = fake.add_channel(guild, "releases", type=15, tags=["News"])
    await community.settle()
    await community.slash(
        ada, "announcements route add", feed="1", channel="#releases", tags="News"
    )
    # The server's managers replace the forum's tags and require one: every post is refused.
    fake.set_forum_tags(forum, ["Launches", "Events"], require_tag=True)
    await community.settle()
    public.put("/blog.xml", feed(("t1", ""), ("t2", ""), ("t3", ""), ("one", "")))
    await community.advance(minutes=11)
    await community.advance(minutes=1)
    assert posts_in(community, forum) == {}
    told = [m.text for m in community.messages_in("mods") if "stopped posting" in m.text]
    assert len(told) == 1, told
    assert community.readable(told[0]) == (
        "Announcements stopped posting to #releases (route 2): the last 3 posts were refused. "
        "Discord refused the post's tags: #releases now requires a tag on every post and none of "
        "the route's tags applied. To fix it, give the route tags the forum takes now "
        "(`/announcements route set 2 tags …`), then `/announcements route resume 2`. New items "
        "are logged as skipped until then."
    )
    listed = await community.slash(ada, "announcements route list")
    assert "PAUSED (Discord refused the post's tags: #releases now requires a tag" in listed.text

    public.put("/blog.xml", feed(("t4", ""), ("t1", ""), ("t2", ""), ("t3", ""), ("one", "")))
    await community.advance(minutes=11)
    await community.advance(minutes=1)
    logged = await community.slash(ada, "announcements log")
    assert "“t4” → route 2 (<#" in logged.text and "skipped (route 2 is paused: " in logged.text
    assert len([m for m in community.messages_in("mods") if "stopped posting" in m.text]) == 1

    changed = await community.slash(
        ada, "announcements route set", route="2", field="tags", value="Launches"
    )
    assert changed.text.startswith("Changed route 2") and "PAUSED" in changed.text
    resumed = await community.slash(ada, "announcements route resume", route="2")
    assert resumed.text.startswith("Route 2 resumes: new items go to ")
    public.put("/blog.xml", feed(("t5", ""), ("t4", ""), ("t1", ""), ("t2", ""), ("t3", "")))
    await community.advance(minutes=11)
    assert posts_in(community, forum)["t5"][0] == ["Launches"]


def test_a_media_channel_is_refused_for_its_posts_need_a_file() -> None:
    # Discord doesn't offer media channels for the option (its API description predates them);
    # should one reach a route anyway, the manager hears why it can't be one.
    where = ChannelRef(CommunityRef("discord", "1"), "7")
    with pytest.raises(UserError) as info:
        check_destination("discord", where, Forum(("Art",), media=True), ())
    assert info.value.message.startswith("<#7> is a media channel, where each post needs")
    assert parse_tags("News; Art: title contains ';'") == (
        TagRule("News"),
        TagRule("Art", parse("title contains ';'")),
    )
