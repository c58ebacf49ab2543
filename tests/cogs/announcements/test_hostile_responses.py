"""Bombs, endless and dripping bodies, huge feeds: capped, timed out, truncated; others unharmed."""

from __future__ import annotations

import asyncio
import resource

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs.announcements._fetch import Problem
from cogs.announcements._source import read_feed
from sandbox.feeds import FeedServer, endless, gzip_bomb, slow_drip
from tests.cogs.announcements.conftest import PUBLIC, fetcher_for


def rss(items: int, title: str = "Item") -> bytes:
    """An RSS 2.0 feed with ``items`` items."""
    body = "".join(
        f"<item><guid>id-{n}</guid><title>{title} {n}</title><link>https://example.org/{n}</link></item>"
        for n in range(items)
    )
    return f"<rss version='2.0'><channel><title>Feed</title>{body}</channel></rss>".encode()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_hostile_answers_are_cut_off_while_a_healthy_feed_delivers(
    public: FeedServer,
) -> None:
    healthy = public.put("/healthy", rss(50))
    public.latency = 0.0
    urls = {
        "bomb": public.on("/bomb", gzip_bomb(50 * 1024 * 1024)),
        "endless": public.on("/endless", endless()),
        "drip": public.on("/drip", slow_drip(0.2)),
        "many": public.put("/many", rss(10_000)),
        "title": public.put("/title", rss(3, title="T" * 1_000_000)),
    }
    before = _rss_mb()
    async with fetcher_for(total=2.0, read=1.0, per_host=8) as fetcher:
        results = await asyncio.gather(
            *(read_feed(fetcher, url) for url in urls.values()), read_feed(fetcher, healthy)
        )
    got = dict(zip([*urls, "healthy"], results, strict=True))
    bomb_error = got["bomb"].error
    endless_error = got["endless"].error
    drip_error = got["drip"].error
    assert bomb_error is not None and bomb_error.problem is Problem.TOO_BIG
    assert endless_error is not None and endless_error.problem is Problem.TOO_BIG
    assert drip_error is not None and drip_error.problem is Problem.TIMEOUT
    many = got["many"].feed
    assert many is not None and many.truncated and len(many.items) == 1500
    titled = got["title"].feed
    assert titled is not None and all(len(i.title) <= 256 for i in titled.items)
    assert len(titled.items) == 3
    ok = got["healthy"].feed
    assert ok is not None and [i.guid for i in ok.items] == [f"id-{n}" for n in range(50)]
    assert _rss_mb() - before < 150  # the 50 MB bomb was never held whole


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=4096),
        st.builds(lambda b: b"<rss><channel><item>" + b, st.binary(max_size=2048)),
        st.builds(
            lambda b: b'{"version":"https://jsonfeed.org/version/1.1","items":[' + b,
            st.binary(max_size=2048),
        ),
        st.builds(lambda b: b"<?xml version='1.0'?><!DOCTYPE x [" + b, st.binary(max_size=1024)),
    ),
    encoding=st.sampled_from(["", "gzip", "deflate", "br", "bogus"]),
)
def test_any_bytes_into_the_feed_path_never_raise_or_hang(body: bytes, encoding: str) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Encoding": encoding} if encoding else {}
        return web.Response(body=body, headers=headers, content_type="application/xml")

    async def scenario() -> None:
        server = FeedServer(PUBLIC)
        url = server.on("/any", answer)
        await server.start()
        try:
            async with fetcher_for(total=3.0) as fetcher:
                reading = await asyncio.wait_for(read_feed(fetcher, server.url("/any")), 10)
        finally:
            await server.stop()
        assert url.endswith("/any")
        if reading.error is not None:
            assert reading.error.problem in Problem and reading.feed is None
        else:
            assert reading.feed is not None and len(reading.feed.items) <= 1500

    asyncio.run(scenario())
