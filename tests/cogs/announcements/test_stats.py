"""The loop closed: members talk under an announcement, and the manager sees which announcements
and sources started conversations (engagement counts them from the relay's event)."""

from __future__ import annotations

from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity
from tests.cogs.announcements.conftest import relayed, rss
from tests.cogs.engagement.test_health_report import emoji
from tests.cogs.engagement.test_truth import unreacts


async def reply_in_discussion(community: Community, post: object, who: str, text: str) -> None:
    """A member writes in the post's discussion (Discord: its thread; Slack: under it)."""
    person = community.people[who]
    raw = post.raw  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        thread = community.fake.world.channels[raw.thread_id]
        await community.fake.user_says(person.account, thread, text)
    else:
        await community.fake.user_says(person.account, raw.channel, text, thread_ts=raw.ts)
    await community.settle()


async def test_stats_rank_the_announcement_members_discussed(
    talking: Community, public: FeedServer
) -> None:
    community = talking
    ada = community.people["ada"]
    url = public.put("/blog.xml", rss("one"))
    await community.slash(ada, "announcements add", url=url, channel="#general")
    public.put("/blog.xml", rss("quiet", "lively", "one"))
    await community.advance(minutes=11)
    posts = {("lively" in p.text): p for p in relayed(community)}
    assert len(posts) == 2
    lively = posts[True]
    await community.advance(minutes=3)
    await reply_in_discussion(community, lively, "alice", "Does it work on Slack too?")
    await reply_in_discussion(community, lively, "bob", "Yes, it does.")
    await reply_in_discussion(community, lively, "alice", "Great, thanks")
    await community.reacts(community.people["bob"], lively, "tada")
    # A reaction given and taken back is not counted (nor taken off another's).
    await community.reacts(community.people["alice"], lively, emoji(community, "tada"))
    await unreacts(community, community.people["alice"], lively, "tada")
    await community.advance(minutes=10)  # engagement counts, the relay hears
    shown = await community.slash(ada, "announcements stats", period="7d")
    assert shown.ephemeral
    lines = shown.text.split("\n")
    assert lines[0] == "Announcements in the last 1w: 2 posts."
    assert lines[2] == (
        "1. “lively” (Brand blog): 3 replies from 2 members, 1 reaction, "
        "first reply after 3 minutes, 1 question (1 answered)"
    )
    assert lines[3].startswith("2. “quiet” (Brand blog): 0 replies from 0 members")
    assert lines[-1] == "• Brand blog: 2 posts, 3 replies"
    # The weekly digest gains a line about them.
    await community.configure(
        "engagement",
        digest_channel=community.channel_mention("mods"),
        digest_weekday="0",
        digest_hour="10",
    )
    await community.advance(minutes=40)  # Monday 10:04: the digest went out at 10:00
    [digest] = [m for m in community.messages_in("mods") if "Weekly engagement" in m.text]
    assert "Announcements: 2 posts, 3 replies in their discussions; most discussed: “lively” " in (
        digest.text
    )
