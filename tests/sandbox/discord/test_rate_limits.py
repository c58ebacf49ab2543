"""The fake Discord limits like Discord: 5 messages per 5 s per channel, 50 requests a second,
shared-scope 429s, and a Cloudflare ban after too many invalid requests.

The windows run faster than Discord's (each test says how much): a 5 s window lasts 5/speed s and
the headers say so, which is what discord.py waits by.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from sandbox.discord import FakeDiscord
from sandbox.discord.limits import Limits
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


def _auth(fake: FakeDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {fake.token}"}


async def test_message_creation_is_five_per_window_per_channel_with_headers(
    fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.rest.limits = Limits(speed=4.0)  # 1.25 s windows: six posts fit in one
    window = 5.0 / 4.0
    other = fake_discord.add_channel(world.guild, "other")
    async with aiohttp.ClientSession(headers=_auth(fake_discord)) as http:

        async def post(channel: str, n: int) -> aiohttp.ClientResponse:
            url = f"{fake_discord.api_base}/channels/{channel}/messages"
            async with http.post(url, json={"content": f"m{n}"}) as resp:
                await resp.read()
                return resp

        first = [await post(world.general.id, n) for n in range(5)]
        refused = await post(world.general.id, 5)
        elsewhere = await post(other.id, 0)

        assert [r.status for r in first] == [200] * 5
        assert [r.headers["X-RateLimit-Remaining"] for r in first] == ["4", "3", "2", "1", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in first} == {"5"}
        assert 0 < float(first[-1].headers["X-RateLimit-Reset-After"]) <= window
        # One route, one hash; the channel is the major parameter that splits the buckets.
        assert first[0].headers["X-RateLimit-Bucket"] == elsewhere.headers["X-RateLimit-Bucket"]
        assert elsewhere.status == 200
        assert refused.status == 429
        body = await refused.json()
        assert body["global"] is False and 0 < body["retry_after"] <= window
        assert refused.headers["X-RateLimit-Scope"] == "user"
        assert refused.headers["Via"]  # or discord.py would take it for a Cloudflare ban

        await asyncio.sleep(body["retry_after"])
        assert (await post(world.general.id, 6)).status == 200
    texts = [m.content for m in fake_discord.messages_in(world.general)]
    assert texts == ["m0", "m1", "m2", "m3", "m4", "m6"]


async def test_discord_py_waits_out_the_bucket_without_a_429(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.rest.limits = Limits(speed=10.0)  # 0.5 s windows
    channel = bot.get_channel(int(world.general.id))
    assert isinstance(channel, discord.TextChannel)
    for n in range(12):
        await channel.send(f"m{n}")
    assert [m.content for m in fake_discord.messages_in(world.general)] == [
        f"m{n}" for n in range(12)
    ]
    assert [r for r in fake_discord.requests if r.status == 429] == []


async def test_fifty_requests_a_second_globally_then_a_global_429(
    fake_discord: FakeDiscord, world: World
) -> None:
    limits = Limits(speed=1.0)
    # The burst comes within one of Discord's seconds: the fake's clock stands still for it
    # (on a loaded machine 55 requests can take longer than a second to arrive).
    instant = limits.now()
    limits.now = lambda: instant  # type: ignore[method-assign]
    fake_discord.rest.limits = limits
    channels = [fake_discord.add_channel(world.guild, f"c{n}") for n in range(11)]
    async with aiohttp.ClientSession(headers=_auth(fake_discord)) as http:

        async def post(channel: str) -> tuple[int, dict[str, str], object]:
            url = f"{fake_discord.api_base}/channels/{channel}/messages"
            async with http.post(url, json={"content": "x"}) as resp:
                return resp.status, dict(resp.headers), await resp.json()

        answers = await asyncio.gather(*(post(c.id) for c in channels for _ in range(5)))
    refused = [(h, b) for status, h, b in answers if status == 429]
    assert sum(1 for status, _, _ in answers if status == 200) == 50
    assert len(refused) == 5
    for headers, body in refused:
        assert headers["X-RateLimit-Global"] == "true"
        assert headers["X-RateLimit-Scope"] == "global"
        assert isinstance(body, dict) and body["global"] is True
    assert fake_discord.rest.limits.counts == {"global": 5}


async def test_shared_scope_429s_do_not_count_against_the_bot(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.rate_limit_shared(world.general.id, 2, retry_after=0.01)
    channel = bot.get_channel(int(world.general.id))
    assert isinstance(channel, discord.TextChannel)
    await channel.send("through at the third try")
    scopes = [r.scope for r in fake_discord.requests if r.status == 429]
    assert scopes == ["shared", "shared"]
    assert list(fake_discord.rest.limits.invalid) == []
    assert [m.content for m in fake_discord.messages_in(world.general)] == [
        "through at the third try"
    ]


async def test_too_many_invalid_requests_get_the_address_banned(
    fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.rest.limits.invalid_limit = 3  # Discord's is 10,000 in 10 minutes
    url = f"{fake_discord.api_base}/channels/{world.general.id}/messages"
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(url, json={"content": "x"}, headers={"Authorization": "Bot no"}):
                pass
        async with http.post(url, json={"content": "x"}, headers=_auth(fake_discord)) as resp:
            assert resp.status == 429
            assert "Via" not in resp.headers  # Cloudflare's, not Discord's
            assert await resp.text() == "error code: 1015"
    assert fake_discord.messages_in(world.general) == []
