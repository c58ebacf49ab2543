"""The SSRF sweep: no notation, redirect or DNS trick reaches the internal canary server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from bot.core.guard import AddressPolicy, BlockedDestination
from cogs.announcements._fetch import FetchError, Problem
from sandbox.feeds import FeedServer
from tests.cogs.announcements.conftest import CANARY, PUBLIC, FakeDns, fetcher_for

FEED = b"<rss><channel><title>Public</title><item><guid>1</guid></item></channel></rss>"
REFUSED = {Problem.BLOCKED, Problem.BAD_URL, Problem.REDIRECTS}


@pytest.fixture
async def twin_canary(public: FeedServer) -> AsyncIterator[FeedServer]:
    """The canary on 127.0.0.3 with the public server's port, so only the address differs."""
    server = FeedServer(CANARY)
    server.port = public.port
    server.put("/secret", FEED)
    await server.start()
    yield server
    await server.stop()


def sweep(port: int, public: str) -> list[tuple[str, set[Problem]]]:
    """At least 40 destinations that must all be refused, with the refusals each may get."""
    blocked = {Problem.BLOCKED}
    numeric = {Problem.BLOCKED, Problem.BAD_URL}  # aiohttp itself rejects some legacy forms
    p = port
    literal = [
        f"http://127.0.0.3:{p}/secret",
        f"http://127.0.0.1:{p}/secret",
        f"http://localhost:{p}/secret",
        f"http://[::1]:{p}/secret",
        f"http://[::ffff:127.0.0.3]:{p}/secret",
        f"http://[::ffff:7f00:3]:{p}/secret",
        f"http://[0:0:0:0:0:ffff:127.0.0.3]:{p}/secret",
        f"http://[64:ff9b::7f00:3]:{p}/secret",
        f"http://[64:ff9b::a00:1]:{p}/",
        f"http://[2002:7f00:3::]:{p}/secret",
        f"http://[2001:0:4136:e378:8000:63bf:80ff:fffc]:{p}/",  # Teredo wrapping 127.0.0.3
        f"http://0.0.0.0:{p}/secret",
        f"http://[::]:{p}/secret",
        f"http://10.0.0.1:{p}/",
        f"http://172.16.0.1:{p}/",
        f"http://192.168.1.1:{p}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://100.64.0.1:{p}/",
        "http://100.100.100.200/",
        f"http://224.0.0.1:{p}/",
        f"http://255.255.255.255:{p}/",
        f"http://240.0.0.1:{p}/",
        f"http://192.0.0.8:{p}/",
        f"http://198.18.0.1:{p}/",
        f"http://[fe80::1]:{p}/",
        f"http://[fc00::1]:{p}/",
        "http://[fd00:ec2::254]/",
        f"http://[ff02::1]:{p}/",
        f"http://internal.test:{p}/secret",
    ]
    legacy = [
        f"http://2130706435:{p}/secret",
        f"http://017700000003:{p}/secret",
        f"http://0x7f000003:{p}/secret",
        f"http://127.3:{p}/secret",
        f"http://0x7f.0.0.3:{p}/secret",
        f"http://0177.0.0.3:{p}/secret",
        f"http://0:{p}/secret",
    ]
    bad = [
        f"http://user@127.0.0.3:{p}/secret",
        f"http://{public}@127.0.0.3:{p}/secret",
        "file:///etc/passwd",
        f"ftp://127.0.0.3:{p}/secret",
        f"gopher://127.0.0.3:{p}/_GET",
        "javascript:alert(1)",
        "//127.0.0.3/secret",
        "127.0.0.3",
        "",
    ]
    return (
        [(f"http://LOCALHOST.:{p}/secret", blocked | {Problem.DNS})]  # resolvers differ on "."
        + [(u, blocked) for u in literal]
        + [(u, numeric) for u in legacy]
        + [(u, {Problem.BAD_URL}) for u in bad]
    )


def redirects(public: FeedServer, port: int) -> list[str]:
    """Public URLs that redirect somewhere internal (or too far)."""
    return [
        public.redirect("/r302", f"http://127.0.0.3:{port}/secret", 302),
        public.redirect("/r307", f"http://internal.test:{port}/secret", 307),
        public.redirect("/r308", f"http://[::ffff:127.0.0.3]:{port}/secret", 308),
        public.redirect("/r301", f"http://localhost:{port}/secret", 301),
        public.redirect("/r303", f"http://0x7f000003:{port}/secret", 303),
        public.redirect("/rfile", "file:///etc/passwd", 302),
        public.redirect("/rrel", f"//127.0.0.3:{port}/secret", 302),
    ]


async def test_no_destination_in_the_sweep_reaches_the_canary(
    public: FeedServer, twin_canary: FeedServer
) -> None:
    public.put("/feed", FEED)
    public.redirect("/c5", "/feed")
    dns = FakeDns({"internal.test": [CANARY], "rebind.test": [PUBLIC, CANARY]})
    cases = sweep(public.port, public.base_url.removeprefix("http://"))
    chained = redirects(public, public.port)
    assert len(cases) + len(chained) + 3 >= 40
    async with fetcher_for(dns=dns, any_port=True) as fetcher:
        for url, allowed in cases:
            with pytest.raises(FetchError) as caught:
                await fetcher.get(url)
            assert caught.value.problem in allowed, (url, caught.value)
        for n in (1, 2, 3, 4):
            public.redirect(f"/c{n}", f"/c{n + 1}")
        for url in chained:
            with pytest.raises(FetchError) as caught:
                await fetcher.get(url)
            assert caught.value.problem in REFUSED, (url, caught.value)
        with pytest.raises(FetchError) as caught:
            await fetcher.get(public.url("/c1"))
        assert caught.value.problem is Problem.REDIRECTS  # four hops: one too many
        assert (await fetcher.get(public.url("/c3"))).status == 200  # three hops are fine
        # DNS rebinding: the name answers public, then private; the second connect is refused.
        public.close_connections = True
        first = await fetcher.get(f"http://rebind.test:{public.port}/feed")
        assert first.status == 200
        with pytest.raises(FetchError) as caught:
            await fetcher.get(f"http://rebind.test:{public.port}/feed")
        assert caught.value.problem is Problem.BLOCKED
    assert twin_canary.connections == 0
    assert not twin_canary.requests


async def test_proxy_settings_in_the_environment_are_ignored(
    public: FeedServer, twin_canary: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = f"http://127.0.0.3:{public.port}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    url = public.put("/feed", FEED)
    async with fetcher_for(any_port=True) as fetcher:
        assert (await fetcher.get(url)).status == 200
    assert os.environ["HTTP_PROXY"] == proxy
    assert twin_canary.connections == 0


def test_a_blocked_address_is_named_in_plain_words() -> None:
    policy = AddressPolicy()
    for address, words in [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.3.4", "carrier-grade NAT"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:c0a8:101::", "private"),
    ]:
        with pytest.raises(BlockedDestination) as caught:
            policy.check(address, 443)
        assert words in caught.value.reason, address
    policy.check("93.184.215.14", 443)  # a public address on a web port is fine
    policy.check("2606:4700::6810:84e5", 80)
    with pytest.raises(BlockedDestination):
        policy.check("93.184.215.14", 6379)  # but not on the port of an internal service
