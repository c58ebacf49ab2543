"""Hub discovery and lease arithmetic, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.announcements._websub import Hub, find_hub, lease_granted, renew_at

BASE = "https://blog.example.org/feed.xml"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # Atom, attributes in any order
            b'<feed xmlns="http://www.w3.org/2005/Atom"><link href="https://hub.ex/"'
            b' rel="hub"/><link rel="self" href="https://blog.example.org/atom"/></feed>',
            Hub("https://hub.ex/", "https://blog.example.org/atom"),
        ),
        (  # RSS with atom:link, single quotes, a relative hub, no self: the fetched address
            b"<rss><channel><atom:link rel='hub' href='/hub?a=1&amp;b=2'/></channel></rss>",
            Hub("https://blog.example.org/hub?a=1&b=2", BASE),
        ),
        (  # rel lists several values
            b'<feed><link rel="alternate hub" href="http://h.ex/"/></feed>',
            Hub("http://h.ex/", BASE),
        ),
        (  # JSON Feed
            b'{"version": "https://jsonfeed.org/version/1.1", "feed_url": "https://j.ex/f.json",'
            b' "hubs": [{"type": "rssCloud", "url": "https://c.ex"},'
            b' {"type": "WebSub", "url": "https://w.ex/hub"}]}',
            Hub("https://w.ex/hub", "https://j.ex/f.json"),
        ),
        (b'<feed><link rel="alternate" href="https://blog/"/></feed>', None),
        (b'<feed><link rel="hub" href="javascript:alert(1)"/></feed>', None),
        (b'<feed><link rel="hub" href="ftp://h.ex/"/></feed>', None),
        (b'{"hubs": "nope"}', None),
        (b"{not json", None),
        (b'<feed><link rel="hub" href="https://hub.exa]ple/"/></feed>', None),  # no address
        (b'<feed><link rel="hub" href="https://h.ex/"/><link rel="self" href="http://[x"/>', None),
        (b'{"hubs": [{"type": "websub", "url": "https://[::1/"}]}', None),
    ],
)
def test_the_hub_a_feed_names_is_found(body: bytes, expected: Hub | None) -> None:
    assert find_hub(body, BASE) == expected


def test_a_hub_named_past_the_head_is_not_read() -> None:
    body = b"<feed>" + b" " * (70 * 1024) + b'<link rel="hub" href="https://h.ex/"/></feed>'
    assert find_hub(body, BASE) is None


@given(st.binary(max_size=2000))
def test_any_bytes_give_a_hub_or_none(body: bytes) -> None:
    found = find_hub(body, BASE)
    assert found is None or found.hub.startswith(("http://", "https://"))


def test_leases_are_renewed_before_they_end() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert lease_granted("3600") == 3600
    assert lease_granted(None) == lease_granted("abc") == 10 * 86400
    assert lease_granted("1") == 60  # a hub granting a second is not obeyed to the letter
    assert lease_granted("²") == lease_granted("٣٦٠٠") == lease_granted("9" * 5000) == 10 * 86400
    assert renew_at(now, 3600) == now + timedelta(seconds=3240)
    assert renew_at(now, 60) == now + timedelta(seconds=30)
    assert renew_at(now, 864000) == now + timedelta(days=9)
