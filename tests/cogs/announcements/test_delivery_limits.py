"""How much a destination gets: a route's cap folds the overflow into one "and N more" post, a
destination the platform keeps refusing is paused (the managers told once, with the fix) until a
manager resumes it, the log tells a post waiting on the platform's limit, and a discussion
survives a crash between the post and its opening."""

from __future__ import annotations

from sqlalchemy import select, update

from cogs.announcements._models import AnnouncementLog
from sandbox.discord.permissions import Permission
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity
from tests.cogs.announcements.conftest import discussion_of, relayed, rss


def refuse_posts(community: Community, channel: str, *, refuse: bool = True) -> None:
    """The platform stops letting Steward post in ``channel`` (Discord: Send Messages denied;
    Slack: Steward is removed from the channel), or lets it again."""
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        where = community.guild.channel_named(channel)
        fake.set_overwrite(where, fake.bot, deny=Permission.SEND_MESSAGES if refuse else 0)
        return
    members = community.channels[channel].members  # type: ignore[attr-defined]
    if refuse:
        members.remove(fake.bot_user_id)
    else:
        members.append(fake.bot_user_id)


async def test_a_capped_route_posts_its_cap_and_one_post_for_the_rest(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    bad = await community.slash(
        ada, "announcements route add", feed="1", channel="#welcome", cap="lots"
    )
    assert bad.ephemeral and bad.text.startswith("A cap reads like `5 per hour`")
    added = await community.slash(
        ada,
        "announcements route add",
        feed="1",
        channel="#welcome",
        style="text",
        discussion="none",
        cap="2 per hour",
    )
    assert "at most 2 per hour (the rest in one “and N more” post)" in added.text

    public.put("/blog.xml", rss("a1", "a2", "a3", "a4", "a5", "one"))
    await community.advance(minutes=11)
    assert len(relayed(community)) == 5  # the uncapped route gets everything
    shown = [m.text for m in community.messages_in("welcome")]
    assert len(shown) == 3
    posts, [more] = shown[:2], shown[2:]
    assert all("https://e.org/a" in text for text in posts)
    assert "…and 3 more from Brand blog" in more
    listed = [link for link in ("a1", "a2", "a3", "a4", "a5") if f"https://e.org/{link}" in more]
    assert len(listed) == 3 and not any(f"https://e.org/{x}" in more for x in posts)

    log = await community.slash(ada, "announcements log")
    assert (
        log.text.count("skipped (over the cap of 2 per hour: listed in one “and 3 more” post)") == 3
    )

    public.put("/blog.xml", rss("b1", "a1", "a2", "a3", "a4", "a5", "one"))
    await community.advance(minutes=11)  # the hour is not over: the next item is summed up too
    assert len(community.messages_in("welcome")) == 4
    assert "…and 1 more from Brand blog" in community.messages_in("welcome")[-1].text


async def test_a_manager_caps_a_route_with_route_set_and_lifts_the_cap(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(
        ada,
        "announcements route add",
        feed="1",
        channel="#welcome",
        style="text",
        discussion="none",
    )

    async def route_set(value: str) -> str:
        shown = await community.slash(
            ada, "announcements route set", route="2", field="cap", value=value
        )
        assert shown.ephemeral and "Traceback" not in shown.text
        return shown.text

    assert (await route_set("lots")).startswith("A cap reads like `5 per hour`")
    assert (await route_set("0 per hour")).startswith("A cap is 1 to 1,000 posts per window")
    assert "at most" not in (await community.slash(ada, "announcements route list")).text
    capped = await route_set("2 per hour")
    assert capped.startswith("Changed route 2: feed 1 (Brand blog) → ")
    assert capped.endswith("; at most 2 per hour (the rest in one “and N more” post).")

    public.put("/blog.xml", rss("a1", "a2", "a3", "a4", "one"))
    await community.advance(minutes=11)
    shown = [m.text for m in community.messages_in("welcome")]
    assert len(shown) == 3 and "…and 2 more from Brand blog" in shown[2]

    lifted = await route_set("off")
    assert lifted.startswith("Changed route 2: ") and "at most" not in lifted
    listed = await community.slash(ada, "announcements route list")
    assert "at most" not in listed.text
    public.put("/blog.xml", rss("b1", "b2", "b3", "a1", "a2", "a3", "a4", "one"))
    await community.advance(minutes=11)  # within the same hour: nothing is held back now
    shown = [m.text for m in community.messages_in("welcome")]
    assert len(shown) == 6 and not any("more from" in text for text in shown[3:])


async def test_a_refused_destination_is_paused_told_once_and_resumed_by_a_manager(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    await community.slash(
        ada,
        "steward settings set",
        feature="steward",
        key="staff_channel",
        value=community.channel_mention("mods"),
    )
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(
        ada, "announcements route add", feed="1", channel="#welcome", discussion="none"
    )
    refuse_posts(community, "welcome")

    public.put("/blog.xml", rss("p1", "p2", "p3", "one"))
    await community.advance(minutes=11)
    await community.advance(minutes=1)
    told = [m.text for m in community.messages_in("mods") if "stopped posting" in m.text]
    assert len(told) == 1
    assert "route 2" in told[0] and "the last 3 posts were refused" in told[0]
    assert "/announcements route resume 2" in told[0]
    listed = await community.slash(ada, "announcements route list")
    assert "PAUSED (" in listed.text

    public.put("/blog.xml", rss("p4", "p1", "p2", "p3", "one"))
    await community.advance(minutes=11)
    await community.advance(minutes=1)
    log = await community.slash(ada, "announcements log")
    assert "“p4” → route 2" in log.text and "skipped (route 2 is paused: " in log.text
    assert len([m for m in community.messages_in("mods") if "stopped posting" in m.text]) == 1

    refuse_posts(community, "welcome", refuse=False)  # the manager fixes it, then resumes
    resumed = await community.slash(ada, "announcements route resume", route="2")
    assert resumed.text.startswith("Route 2 resumes: new items go to ")
    public.put("/blog.xml", rss("p5", "p4", "p1", "p2", "p3", "one"))
    await community.advance(minutes=11)
    assert [p.text for p in relayed(community, "welcome") if "p5" in p.text]
    again = await community.slash(ada, "announcements route resume", route="2")
    assert again.text.startswith("Route 2 isn't paused")


async def test_the_log_tells_a_post_waiting_on_the_platform_limit(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    fake = community.fake  # type: ignore[attr-defined]
    # The platform answers the post "too many requests" more often than the library waits out
    # by itself (discord.py: 5 tries; Steward's Slack client: 5 retries).
    if isinstance(community, DiscordCommunity):
        fake.rest.faults.rate_limited = 5
    else:
        fake.faults.rate_limit(6, method="chat.postMessage")
    public.put("/blog.xml", rss("w1", "one"))
    await community.advance(minutes=11)
    log = await community.slash(ada, "announcements log")
    assert "“w1” → route 1 (" in log.text and ": waiting (rate limit)" in log.text
    await community.advance(minutes=1)
    assert len(relayed(community)) == 1
    log = await community.slash(ada, "announcements log")
    assert ": posted" in log.text and "waiting" not in log.text


async def test_a_discussion_still_opens_after_a_crash_between_the_post_and_its_opening(
    community: Community, public: FeedServer
) -> None:
    """Steward wrote the post's fate and died before the discussion was opened (its thread may
    even exist already): the next pass opens it, with its opening line, once."""
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(ada, "announcements route remove", route="1")
    await community.slash(ada, "announcements route add", feed="1", channel="#general")
    public.put("/blog.xml", rss("c1", "one"))
    await community.advance(minutes=11)
    [post] = relayed(community)
    _, inside = discussion_of(community, post)
    assert [m.text for m in inside] == ["What do you think?"]

    # Back to the moment of the crash: the post recorded, its discussion not yet.
    app = community.app  # type: ignore[attr-defined]
    async with app.db.uow() as uow:
        await uow.session.execute(
            update(AnnouncementLog)
            .where(AnnouncementLog.title == "c1")
            .values(outcome="opening", thread_id=None)
        )
        await uow.commit()
    await community.advance(minutes=11)
    _, inside = discussion_of(community, post)
    assert [m.text for m in inside] == ["What do you think?"]  # opened, and said once
    async with app.db.uow() as uow:
        row = await uow.session.scalar(select(AnnouncementLog).where(AnnouncementLog.title == "c1"))
        assert row is not None and row.outcome == "posted" and row.thread_id
