"""A channel with a backlog does not hold back the relay: the feed poll's run ends while the
channel's posts still go out at the platform's pace (after an outage, waiting for paced
channels' backlogs kept one run going for minutes, and every later minute's poll was skipped),
so the next run posts another feed's new item meanwhile; in the end each item is posted once,
its discussion opened."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.core import dispatch
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity
from tests.cogs.announcements.conftest import discussion_of, relayed, rss

BACKLOG = [f"n{n:02d}" for n in range(12, 0, -1)]  # newest first


def _hold_first_post(community: Community, seconds: float) -> None:
    """The platform takes the next post in #general and answers it ``seconds`` later (within
    the client's timeout): the posts behind it wait meanwhile."""
    fake: Any = community.fake  # type: ignore[attr-defined]

    async def hold() -> None:
        await asyncio.sleep(seconds)

    if isinstance(community, DiscordCommunity):
        channel = community.guild.channel_named("general").id
        fake.rest.faults.stall_after[f"create_message:{channel}"] = hold
    else:
        channel = community.channels["general"].id  # type: ignore[attr-defined]
        fake.faults.stall_after("chat.postMessage", hold, channel=channel)


async def _poll(community: Community) -> None:
    """Eleven minutes later each feed is due: the poll runs, until its run ends."""
    community.clock.advance(timedelta(minutes=11))
    await community.app.jobs.run_due()


async def test_a_channel_s_backlog_holds_back_neither_the_poll_nor_other_channels(
    community: Community, public: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "JOB_WAITS_FOR_LANES", 0.5)  # a run waits this long at most
    ada = community.people["ada"]
    news = public.put("/news.xml", rss("n0"))
    blog = public.put("/blog.xml", rss("b1"))
    await community.slash(ada, "announcements add", url=news, channel="#general")
    await community.slash(ada, "announcements add", url=blog, channel="#welcome")

    public.put("/news.xml", rss(*BACKLOG, "n0"))
    _hold_first_post(community, 5.0)
    await _poll(community)  # twelve items for #general, the first one held
    public.put("/blog.xml", rss("b2", "b1"))
    await _poll(community)
    # #welcome's new item is there before #general's backlog is out.
    assert [len(relayed(community, "welcome")), len(relayed(community, "general")) < 12] == [
        1,
        True,
    ]

    await community.settle()
    await community.advance(minutes=11)  # the run after learns the last posts' fates
    for channel, item in [("general", n) for n in BACKLOG] + [("welcome", "b2")]:
        [post] = relayed(community, channel, f"https://e.org/{item}")
        _, inside = discussion_of(community, post, channel)
        assert [m.text for m in inside] == ["What do you think?"], (channel, item)
    assert (len(relayed(community, "general")), len(relayed(community, "welcome"))) == (12, 1)
