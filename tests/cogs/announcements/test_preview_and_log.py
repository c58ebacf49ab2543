"""A manager previews a route privately, posts a test for real once, and reads the log."""

from __future__ import annotations

from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity
from tests.cogs.announcements.conftest import discussion_of, relayed, rss


async def test_preview_is_private_test_posts_once_and_the_log_says_why(
    community: Community, public: FeedServer
) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    community.add_role("gardeners")
    await community.set_role(alice, "gardeners", has=True)
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(
        ada,
        "announcements route add",
        feed="1",
        channel="#welcome",
        filter="title contains 'two'",
        mention="@gardeners",
    )
    pings_before = len(community.pings_of(alice))

    shown = await community.slash(ada, "announcements preview", route="2")
    assert shown.ephemeral
    assert community.readable(shown.texts[0]) == (
        "Route 2 would post this in #welcome. Its filter stops it: title doesn't contain 'two'."
    )
    if isinstance(community, DiscordCommunity):
        [embed] = shown.messages[-1].embeds
        assert (embed["title"], embed["url"]) == ("one", "https://e.org/one")
    else:
        assert "*<https://e.org/one|one>*" in shown.text
    assert relayed(community, "welcome") == [] and len(community.pings_of(alice)) == pings_before

    tested = await community.slash(ada, "announcements test", route="2")
    assert community.readable(tested.text) == "Posting “one” in #welcome now, once."
    [post] = relayed(community, "welcome")
    assert len(community.pings_of(alice)) == pings_before + 1  # the route's role, for real
    again = await community.slash(ada, "announcements test", route="2")
    assert again.ephemeral and again.text == "Route 2 already posted “one”: nothing to test."
    assert len(relayed(community, "welcome")) == 1

    public.put("/blog.xml", rss("two", "three", "one"))
    await community.advance(minutes=11)
    assert len(relayed(community, "welcome")) == 2
    await community.advance(minutes=1)
    _, inside = discussion_of(community, post, "welcome")
    assert [m.text for m in inside] == ["What do you think?"]
    log = await community.slash(ada, "announcements log")
    lines = community.readable(log.text).split("\n")
    assert any(
        line.endswith(
            "“three” → route 2 (#welcome): filtered (filter: title doesn't contain 'two')"
        )
        for line in lines
    ), log.text
    assert any(line.endswith(": posted") and "“two” → route 2" in line for line in lines)
    assert any("“three” → route 1" in line and line.endswith(": posted") for line in lines)
    assert any("“one” → route 2" in line and line.endswith("posted (test post)") for line in lines)
