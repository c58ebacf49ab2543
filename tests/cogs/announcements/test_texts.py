"""What managers read: feed text never pings, and links pasted in Slack's wrapping still work."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from cogs.announcements._items import Feed, Item
from cogs.announcements._texts import clean_url, found_text

ACTIVE = re.compile(r"@(everyone|here)|<[@!#]|<!(channel|here|everyone)")
PINGY = st.lists(
    st.sampled_from(["@everyone", "@here", "<@123>", "<@&456>", "<!channel>", "<!here>", "x", " "]),
    max_size=8,
).map("".join)


@given(feed_title=PINGY, item_title=PINGY)
def test_feed_text_never_pings(feed_title: str, item_title: str) -> None:
    feed = Feed("rss", feed_title, None, (Item(guid="1", title=item_title, link=None),))
    assert not ACTIVE.search(found_text(feed, "https://e.org/feed"))


def test_links_pasted_in_slack_are_unwrapped() -> None:
    assert clean_url(" <https://e.org/feed.xml> ") == "https://e.org/feed.xml"
    assert clean_url("<https://e.org/feed.xml|e.org/feed.xml>") == "https://e.org/feed.xml"
    assert clean_url("https://e.org/feed.xml") == "https://e.org/feed.xml"
