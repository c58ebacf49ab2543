"""WebSub: a feed that names a hub is subscribed to through Steward's real HTTP endpoint, against
a tiny real hub on loopback; pushes are posted at once and once, forged ones are ignored, and the
lease is renewed before it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.feeds import FeedServer
from sandbox.scenario import Community, Posted
from sandbox.websub import Hub
from tests.cogs.announcements.conftest import PUBLIC, shown_as
from tests.cogs.announcements.conftest import relayed as relayed_in


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """A hub on 127.0.0.2 that grants one-hour leases."""
    running = Hub(PUBLIC, lease_seconds=3600)
    await running.start()
    yield running
    await running.stop()


def feed(hub: Hub, topic: str, *items: str) -> bytes:
    """An RSS feed naming its hub and its own address, as WordPress or Blogger write them."""
    body = "".join(
        f"<item><guid>{t}</guid><title>{t}</title><link>https://e.org/{t}</link></item>"
        for t in items
    )
    return (
        "<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel><title>Blog</title>"
        f"<atom:link rel='hub' href='{hub.url}'/><atom:link rel='self' href='{topic}'/>"
        f"{body}</channel></rss>"
    ).encode()


def relayed(community: Community) -> list[Posted]:
    return relayed_in(community)


async def test_a_hub_pushes_new_items_which_are_posted_once(
    hooked: Community, public: FeedServer, hub: Hub
) -> None:
    ada = hooked.people["ada"]
    topic = f"http://{PUBLIC}:{public.port}/blog.xml"
    url = public.put("/blog.xml", feed(hub, topic, "two", "one"))
    added = await hooked.slash(ada, "announcements add", url=url, channel="#general")
    assert "Its hub will push new items as they come" in added.text, added.text
    [sub] = hub.subscribers[topic]  # verified: Steward echoed the hub's challenge
    assert sub.callback.startswith("http://127.0.0.1:") and len(sub.secret) == 64

    newer = feed(hub, topic, "three", "two", "one")
    assert await hub.publish(topic, newer) == [202]
    await hooked.settle()  # no poll: the clock has not moved
    assert [shown_as(hooked, p) for p in relayed(hooked)] == [("three", "https://e.org/three")]
    assert await hub.publish(topic, newer) == [202]  # the same push again
    forged = feed(hub, topic, "evil", "three", "two", "one")
    assert await hub.publish(topic, forged, secret="not the secret") == [202]  # acked, ignored
    await hooked.settle()
    assert len(relayed(hooked)) == 1

    for mode in ("unsubscribe", "subscribe"):  # verifications Steward did not ask for
        asked = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": "echo-me"}
        assert await hub.verify(sub.callback, **asked) == (404, "not asked")

    assert [r["hub.mode"] for r in hub.requests] == ["subscribe"]
    await hooked.advance(minutes=55)  # the one-hour lease is renewed before it ends
    assert [r["hub.mode"] for r in hub.requests] == ["subscribe", "subscribe"]
    assert hub.requests[1]["hub.callback"] == sub.callback
    assert [s.callback for s in hub.subscribers[topic]] == [sub.callback]
    assert await hub.publish(topic, feed(hub, topic, "four", "three")) == [202]
    await hooked.settle()
    assert [shown_as(hooked, p)[0] for p in relayed(hooked)] == ["three", "four"]


async def test_a_hub_that_refuses_is_asked_again_and_a_removed_feed_is_dropped(
    hooked: Community, public: FeedServer, hub: Hub
) -> None:
    ada = hooked.people["ada"]
    topic = f"http://{PUBLIC}:{public.port}/blog.xml"
    url = public.put("/blog.xml", feed(hub, topic, "one"))
    hub.refuse = True
    added = await hooked.slash(ada, "announcements add", url=url, channel="#general")
    assert "Its hub refused a subscription, so I only check it on schedule." in added.text
    hub.refuse = False
    await hooked.advance(minutes=61)
    assert [r["hub.mode"] for r in hub.requests] == ["subscribe", "subscribe"]
    assert len(hub.subscribers[topic]) == 1  # verified the second time
    await hooked.slash(ada, "announcements remove", feed="1")
    assert await hub.publish(topic, feed(hub, topic, "two", "one")) == [410]
    await hooked.settle()
    assert relayed(hooked) == []


async def test_imported_feeds_that_name_a_hub_are_subscribed_like_added_ones(
    hooked: Community, public: FeedServer, hub: Hub
) -> None:
    ada = hooked.people["ada"]
    topic = f"http://{PUBLIC}:{public.port}/blog.xml"
    url = public.put("/blog.xml", feed(hub, topic, "two", "one"))
    plain = public.put(
        "/plain.xml", b"<rss version='2.0'><channel><title>P</title></channel></rss>"
    )
    opml = f'<opml version="2.0"><body><outline xmlUrl="{url}"/><outline xmlUrl="{plain}"/>'
    listed = public.put("/feeds.opml", (opml + "</body></opml>").encode())
    imported = await hooked.slash(ada, "announcements import", opml=listed, channel="#general")
    assert "Following 2 new feeds" in imported.text, imported.text
    assert "1 of them have a hub that pushes new items as they come" in imported.text
    [sub] = hub.subscribers[topic]  # verified through Steward's endpoint, as for `add`
    assert [r["hub.mode"] for r in hub.requests] == ["subscribe"]

    # An imported feed starts quietly: the first push it gets is what it had, not news.
    assert await hub.publish(topic, feed(hub, topic, "three", "two", "one")) == [202]
    await hooked.settle()  # no poll: the clock has not moved
    assert relayed(hooked) == []
    assert await hub.publish(topic, feed(hub, topic, "four", "three", "two")) == [202]
    await hooked.settle()
    assert [shown_as(hooked, p) for p in relayed(hooked)] == [("four", "https://e.org/four")]
    assert sub.callback.startswith("http://127.0.0.1:")
