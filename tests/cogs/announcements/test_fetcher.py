"""The fetcher is polite: conditional GET, a per-host limit, and what servers say about retrying."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from cogs.announcements._fetch import FetchError, Problem, Validators
from sandbox.feeds import FeedServer
from tests.cogs.announcements.conftest import fetcher_for

FEED = (
    b"<rss><channel><title>F</title><item><guid>1</guid><title>One</title></item></channel></rss>"
)


async def test_a_host_never_sees_more_than_its_limit_at_once(public: FeedServer) -> None:
    public.latency = 0.05
    urls = [public.put(f"/f{n}", FEED) for n in range(12)]
    async with fetcher_for(per_host=3) as fetcher:
        answers = await asyncio.gather(*(fetcher.get(u) for u in urls))
    assert all(a.status == 200 for a in answers)
    assert max(public.max_in_flight.values()) == 3


async def test_conditional_get_sends_validators_and_never_an_empty_one(public: FeedServer) -> None:
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        return web.Response(body=FEED, headers={"Last-Modified": "Sun, 06 Dec 2026 10:00:00 GMT"})

    url = public.on("/lm", record)
    async with fetcher_for() as fetcher:
        first = await fetcher.get(url)
        await fetcher.get(url, first.validators)
    assert first.validators == Validators(None, "Sun, 06 Dec 2026 10:00:00 GMT")
    assert "If-None-Match" not in seen[1]
    assert seen[1]["If-Modified-Since"] == "Sun, 06 Dec 2026 10:00:00 GMT"


async def test_servers_say_how_long_to_wait(public: FeedServer) -> None:
    async def busy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "120"})

    cached = public.put("/cached", FEED, cache_control="public, max-age=900")
    busy_url = public.on("/busy", busy)
    async with fetcher_for() as fetcher:
        fresh = await fetcher.get(cached)
        with pytest.raises(FetchError) as caught:
            await fetcher.get(busy_url)
        with pytest.raises(FetchError) as missing:
            await fetcher.get(public.url("/nowhere"))
    assert fresh.fresh_for == 900
    assert caught.value.status == 429 and caught.value.retry_after == 120
    assert missing.value.problem is Problem.HTTP and "HTTP 404" in missing.value.explain()


async def test_a_wait_in_digits_that_are_no_number_is_no_wait(public: FeedServer) -> None:
    # "²" is a digit to str.isdigit and no number to int: the server's answer is an HTTP error
    # (with no wait), not a crash of the fetch.
    async def odd(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "²"})

    async with fetcher_for() as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(public.on("/odd", odd))
    assert caught.value.status == 503 and caught.value.retry_after is None


async def test_waiting_for_a_busy_hosts_turn_is_not_a_timeout(public: FeedServer) -> None:
    public.latency = 0.2  # eight feeds, one at a time: 1.6 s in all, each well under its 1.5 s
    urls = [public.put(f"/q{n}", FEED) for n in range(8)]
    async with fetcher_for(per_host=1, total=1.5) as fetcher:
        answers = await asyncio.gather(*(fetcher.get(u) for u in urls))
    assert [a.status for a in answers] == [200] * 8
    assert public.max_in_flight[f"{public.host}:{public.port}"] == 1
