"""Loopback worlds for the feed relay: 127.0.0.2 plays the internet, 127.0.0.3 a canary."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.builtin import Steward
from bot.core.guard import AddressPolicy
from cogs.announcements import Announcements
from cogs.announcements._fetch import Fetcher, Limits
from cogs.announcements._schedule import SchedulePolicy
from cogs.engagement import Engagement
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity, Posted, open_community
from tests.conftest import shared_dir

PUBLIC = "127.0.0.2"
CANARY = "127.0.0.3"


def feeds_dir() -> Path:
    """../shared/data/feeds (skips, or fails in CI, without ../shared)."""
    return shared_dir() / "data" / "feeds"


class FakeDns(AbstractResolver):
    """Names the tests invent; a list of answers is used in turn (DNS rebinding)."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: dict[str, int] = {}
        self.real = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            return await self.real.resolve(host, port, family)
        turn = self.asked.get(host, 0)
        self.asked[host] = turn + 1
        answers = self.names[host]
        ip = answers[turn % len(answers)]
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [
            ResolveResult(
                hostname=host, host=ip, port=port, family=fam, proto=0, flags=socket.AI_NUMERICHOST
            )
        ]

    async def close(self) -> None:
        await self.real.close()


def fetcher_for(
    allow: Iterable[str] = (PUBLIC + "/32",),
    dns: FakeDns | None = None,
    *,
    any_port: bool = True,
    **limits: float,
) -> Fetcher:
    """A fetcher that treats only ``allow`` (plus the public internet) as reachable."""
    return Fetcher(
        AddressPolicy.allowing(allow, any_port=any_port),
        limits=Limits(**limits),  # type: ignore[arg-type]
        resolver=dns,
    )


@pytest.fixture
async def public() -> AsyncIterator[FeedServer]:
    """A feed server on 127.0.0.2, the stand-in for the internet."""
    server = FeedServer(PUBLIC)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def canary() -> AsyncIterator[FeedServer]:
    """An internal service on 127.0.0.3 that counts every connection made to it."""
    server = FeedServer(CANARY)
    server.put("/secret", b"<rss><channel><item><title>INTERNAL</title></item></channel></rss>")
    await server.start()
    yield server
    await server.stop()


def rss(*items: str) -> bytes:
    """A feed whose items are titled and identified by ``items``, newest first."""
    body = "".join(
        f"<item><guid>{t}</guid><title>{t}</title><link>https://e.org/{t}</link></item>"
        for t in items
    )
    return f"<rss version='2.0'><channel><title>Brand blog</title>{body}</channel></rss>".encode()


CONFIG = {"feeds_allow": [PUBLIC + "/32"]}
"""The process config of these tests: 127.0.0.2 (any port) is allowed, as an operator would."""


def announcements() -> Announcements:
    """The feature as tests run it: three failures pause a feed."""
    return Announcements(
        schedule=SchedulePolicy(jitter=0, disable_after=3, backoff_cap=SchedulePolicy().backoff),
    )


@pytest.fixture(params=["discord", "slack"])
async def community(
    request: pytest.FixtureRequest, database_url: str, public: FeedServer
) -> AsyncIterator[Community]:
    """Steward with announcements; only 127.0.0.2 stands for the internet."""
    shared_dir()
    async with open_community(
        request.param, database_url, [Steward(), announcements()], config=CONFIG
    ) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


@pytest.fixture(params=["discord", "slack"])
async def talking(
    request: pytest.FixtureRequest, database_url: str, public: FeedServer
) -> AsyncIterator[Community]:
    """Steward with the relay and engagement."""
    shared_dir()
    features = [Steward(), announcements(), Engagement(flush_after=0)]
    async with open_community(request.param, database_url, features, config=CONFIG) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


@pytest.fixture(params=["discord", "slack"])
async def hooked(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Steward with announcements and its own HTTP endpoint on a free loopback port."""
    config = {**CONFIG, "http_port": 0}
    async with open_community(
        request.param, database_url, [Steward(), announcements()], config=config
    ) as running:
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


def relayed(
    community: Community, channel: str = "general", marker: str = "https://e.org/"
) -> list[Posted]:
    """The relay's posts members see at the top of a channel (embeds and plain posts alike),
    those whose link holds ``marker``."""
    found = []
    for message in community.messages_in(channel):
        raw = message.raw
        if isinstance(community, DiscordCommunity):
            shown = [e.get("url") or "" for e in raw.embeds] + [raw.content]
        elif raw.thread_ts not in (None, raw.ts):
            continue
        else:
            shown = [message.text]
        if any(marker in text for text in shown):
            found.append(message)
    return found


def discussion_of(
    community: Community, post: Posted, channel: str = "general"
) -> tuple[str | None, list[Posted]]:
    """The discussion a post opened: its thread's name (Discord) and the messages in it."""
    raw = post.raw
    if isinstance(community, DiscordCommunity):
        if raw.thread_id is None:
            return None, []
        thread = community.fake.world.channels[raw.thread_id]
        inside = community.fake.messages_in(thread)
        return str(thread.name), [Posted(m.content, m.author_id, m) for m in inside]
    replies = [
        m
        for m in community.everything_in(channel)
        if m.raw.thread_ts == raw.ts and m.raw.ts != raw.ts
    ]
    return None, replies


def shown_as(community: Community, post: Posted) -> tuple[str, str | None]:
    """A relayed post as members read it: its title and where it links."""
    if isinstance(community, DiscordCommunity):
        [embed] = post.raw.embeds
        return str(embed["title"]), embed.get("url")
    found = re.match(r"^\*<([^|>]+)\|(.*)>\*", post.text, re.DOTALL)
    assert found, post.text
    return found.group(2), found.group(1)
