"""A manager sends one feed to several channels, each with its own filter, look, ping and
discussion; members see exactly that, and the manager can see why an item was stopped."""

from __future__ import annotations

from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity, Person
from tests.cogs.announcements.conftest import discussion_of, relayed, rss


async def test_one_feed_reaches_two_channels_each_as_its_route_says(
    community: Community, public: FeedServer
) -> None:
    ada, alice, bob = (community.people[n] for n in ("ada", "alice", "bob"))
    community.add_role("gardeners")
    await community.set_role(alice, "gardeners", has=True)
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    added = await community.slash(
        ada,
        "announcements route add",
        feed="1",
        channel="#welcome",
        filter="title contains 'launch' and not title contains 'beta'",
        template="{title|upper} is here: {link}",
        style="text",
        mention="@gardeners",
        discussion="none",
    )
    assert added.ephemeral and added.text.startswith("Added route 2: feed 1 (Brand blog) → ")
    assert "only items where title contains 'launch' and not title contains 'beta'" in added.text

    public.put("/blog.xml", rss("launch", "beta-launch", "other", "one"))
    await community.advance(minutes=11)
    # Every item reaches #general as an embed with its discussion; #welcome gets one, as text.
    assert len(relayed(community)) == 3
    [only] = relayed(community, "welcome")
    assert only.text.endswith("LAUNCH is here: https://e.org/launch")
    assert community.readable(only.text).startswith("@gardeners ")
    assert only.raw in [p.raw for p in community.pings_of(alice)]
    assert only.raw not in [p.raw for p in community.pings_of(bob)]
    assert discussion_of(community, only, "welcome") == (None, [])
    for post in relayed(community):  # nothing in #general pings anyone
        assert post.raw not in [p.raw for p in community.pings_of(alice)]

    checked = await community.slash(ada, "announcements check", feed="1")
    assert "• other: stopped, because title doesn't contain 'launch'" in checked.text
    assert "• beta-launch: stopped, because title contains 'beta'" in checked.text
    assert "• launch: passes, because title contains 'launch' and title doesn't contain" in (
        checked.text
    )

    listed = await community.slash(ada, "announcements route list")
    assert listed.text.count("\n") == 1 and "2. feed 1 (Brand blog)" in listed.text
    removed = await community.slash(ada, "announcements route remove", route="2")
    assert removed.text.startswith("Removed route 2")
    public.put("/blog.xml", rss("launch-two", "launch", "beta-launch", "other", "one"))
    await community.advance(minutes=11)
    assert len(relayed(community, "welcome")) == 1 and len(relayed(community)) == 4


async def test_a_route_mistake_is_explained_privately_and_nothing_is_saved(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    for options, says in (
        ({"filter": "titel contains 'x'"}, "That filter doesn't read: `titel` is not a field"),
        ({"filter": "title matches '(a)\\1'"}, "no look-arounds or back-references"),
        ({"template": "{title|shout}"}, "`shout` is not a transform I know"),
        ({"style": "fancy"}, "`style` is either `embed` (the default) or `text`."),
    ):
        shown = await community.slash(
            ada, "announcements route add", feed="1", channel="#welcome", **options
        )
        assert shown.ephemeral and says in shown.text, shown.text
        assert "Traceback" not in shown.text
    listed = await community.slash(ada, "announcements route list")
    assert listed.text.startswith("1. feed 1") and "\n" not in listed.text
    if isinstance(community, DiscordCommunity):
        guild = community.guild
        everyone = await community.slash(
            ada,
            "announcements route add",
            feed="1",
            channel="#welcome",
            mention=guild.roles[guild.id],
        )
        assert everyone.text == "A route may ping one role, never everyone: pick a role."


async def test_a_route_publishes_its_posts_from_an_announcement_channel(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    if not isinstance(community, DiscordCommunity):
        shown = await community.slash(
            ada, "announcements route add", feed="1", channel="#welcome", crosspost=True
        )
        assert shown.ephemeral and shown.text == (
            "Slack has no announcement channels to publish from: leave `crosspost` off."
        )
        return
    community.fake.add_channel(community.guild, "news", type=5)  # an announcement channel
    await community.settle()
    added = await community.slash(
        ada, "announcements route add", feed="1", channel="#news", crosspost=True
    )
    assert "published to following servers" in added.text
    public.put("/blog.xml", rss("two", "one"))
    await community.advance(minutes=11)
    [post] = relayed(community, "news")
    assert post.raw.flags & 1  # CROSSPOSTED: following servers got it
    [general] = relayed(community)
    assert not general.raw.flags & 1
    name, inside = discussion_of(community, post, "news")
    assert name == "two" and [m.text for m in inside] == ["What do you think?"]


async def test_a_manager_changes_one_setting_of_a_route_checked_as_when_added(
    community: Community, public: FeedServer
) -> None:
    ada, alice, bob = (community.people[n] for n in ("ada", "alice", "bob"))
    community.add_role("gardeners")
    await community.set_role(alice, "gardeners", has=True)
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(ada, "announcements route add", feed="1", channel="#welcome")

    async def route_set(field: str, value: str, route: str = "2", who: Person = ada) -> str:
        shown = await community.slash(
            who, "announcements route set", route=route, field=field, value=value
        )
        assert shown.ephemeral and "Traceback" not in shown.text
        return shown.text

    for field, value, says in (
        ("filter", "titel contains 'x'", "That filter doesn't read: `titel` is not a field"),
        ("template", "{title|shout}", "`shout` is not a transform I know"),
        ("style", "fancy", "`style` is either `embed` (the default) or `text`."),
        ("discussion", "forum", "`discussion` is either `thread` (the default) or `none`."),
        ("crosspost", "maybe", "`maybe` is not a yes/no value"),
        ("mention", "gardeners!", "is not a role; mention it, like @moderators."),
    ):
        assert says in await route_set(field, value), (field, value)
    assert (await route_set("filter", "x", route="9")).startswith("There is no route 9")
    tags = await route_set("tags", "News")
    if isinstance(community, DiscordCommunity):
        assert tags.startswith("Tags are for forum channels and <#") and "is not one" in tags
    else:
        assert (
            tags == "Slack has no forum channels, so posts there carry no tags: leave `tags` off."
        )
    if not isinstance(community, DiscordCommunity):  # Discord hides it from members as well
        refused = await route_set("filter", "title contains 'a'", who=bob)
        assert refused.startswith("Sorry, you need to be an admin")

    changed = await route_set("filter", "title contains 'launch'")
    assert changed.startswith("Changed route 2: feed 1 (Brand blog) → ")
    assert "only items where title contains 'launch'" in changed
    await route_set("style", "text")
    await route_set("template", "{title|upper}: {link}")
    await route_set("mention", community.role_mention("gardeners"))
    assert "opens a discussion" not in await route_set("discussion", "none")
    listed = await community.slash(ada, "announcements route list")
    assert community.readable(listed.text).endswith(
        "\n2. feed 1 (Brand blog) → #welcome; as plain text; only items where title contains "
        "'launch'; template `{title|upper}: {link}`; pings @gardeners."
    ), listed.text
    public.put("/blog.xml", rss("launch", "other", "one"))
    await community.advance(minutes=11)
    [only] = relayed(community, "welcome")
    assert only.text.endswith("LAUNCH: https://e.org/launch")
    assert only.raw in [p.raw for p in community.pings_of(alice)]
    assert discussion_of(community, only, "welcome") == (None, [])
    cleared = await route_set("mention", "none")
    assert "pings" not in cleared and "only items where" in cleared
    assert "every item" in await route_set("filter", "none")
