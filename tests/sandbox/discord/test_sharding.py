"""The fake gateway shards as Discord documents: a guild's events go to shard
``(guild_id >> 22) % num_shards`` only, DMs to shard 0, a shard that does not exist is refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from sandbox.discord import FakeDiscord
from sandbox.discord.gateway import Intent
from sandbox.discord.state import Guild

INTENTS = Intent.GUILDS | Intent.GUILD_MEMBERS | Intent.DIRECT_MESSAGES


def _guild_on(fake: FakeDiscord, shard: int, count: int) -> Guild:
    """A new guild whose id falls on ``shard`` (ids made in one millisecond share a shard)."""
    while True:
        guild = fake.add_guild(f"On shard {shard}")
        if (int(guild.id) >> 22) % count == shard:
            return guild
        fake.world.guilds.pop(guild.id)
        time.sleep(0.001)


class Shard:
    """A raw gateway connection that identified as one shard."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def dispatch(self) -> dict[str, Any]:
        """The next DISPATCH frame (heartbeat answers skipped)."""
        while True:
            frame: dict[str, Any] = await self.ws.receive_json(timeout=30)
            if frame["op"] == 0:
                return frame

    async def ready(self) -> tuple[list[str], list[str]]:
        """READY's guild ids and those of the GUILD_CREATEs that follow it."""
        ready = await self.dispatch()
        assert ready["t"] == "READY"
        listed = [g["id"] for g in ready["d"]["guilds"]]
        created = [(await self.dispatch())["d"]["id"] for _ in listed]
        return listed, created


@asynccontextmanager
async def shard(fake: FakeDiscord, shard: list[Any] | None) -> AsyncIterator[Shard]:
    """Connect and IDENTIFY with ``shard`` (None: without one)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url) as ws:
        hello = await ws.receive_json(timeout=30)
        assert hello["op"] == 10
        d: dict[str, Any] = {
            "token": fake.token,
            "intents": INTENTS,
            "properties": {"os": "linux", "browser": "test", "device": "test"},
        }
        if shard is not None:
            d["shard"] = shard
        await ws.send_json({"op": 2, "d": d})
        yield Shard(ws)


async def test_each_shard_gets_only_its_guilds_events_and_dms_go_to_shard_zero(
    fake_discord: FakeDiscord,
) -> None:
    first, second = _guild_on(fake_discord, 0, 2), _guild_on(fake_discord, 1, 2)
    async with shard(fake_discord, [0, 2]) as zero, shard(fake_discord, [1, 2]) as one:
        assert await zero.ready() == ([first.id], [first.id])
        assert await one.ready() == ([second.id], [second.id])

        await fake_discord.member_joins(first, fake_discord.add_user("ann"))
        await fake_discord.member_joins(second, fake_discord.add_user("bob"))
        # Each connection's frames come in order: had shard 1 got ann's join, it would be first.
        seen = await one.dispatch()
        assert (seen["t"], seen["d"]["guild_id"]) == ("GUILD_MEMBER_ADD", second.id)
        seen = await zero.dispatch()
        assert (seen["t"], seen["d"]["guild_id"]) == ("GUILD_MEMBER_ADD", first.id)

        ann = fake_discord.world.users[seen["d"]["user"]["id"]]
        dm = fake_discord.world.dm_channel(ann)
        await fake_discord.user_says(ann, dm, "hello bot")
        await fake_discord.member_joins(second, fake_discord.add_user("cy"))
        assert (await zero.dispatch())["t"] == "MESSAGE_CREATE"
        seen = await one.dispatch()
        assert seen["t"] == "GUILD_MEMBER_ADD" and seen["d"]["user"]["username"] == "cy"


async def test_a_shard_that_does_not_exist_is_refused_with_4010(
    fake_discord: FakeDiscord,
) -> None:
    for wrong in ([2, 2], [-1, 2], [0, 0], [0]):
        async with shard(fake_discord, wrong) as s:
            closed = await s.ws.receive(timeout=30)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010, wrong


async def test_gateway_bot_gives_the_recommended_shard_count(fake_discord: FakeDiscord) -> None:
    fake_discord.recommended_shards = 3
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fake_discord.api_base}/gateway/bot", headers=headers) as answer,
    ):
        assert (await answer.json())["shards"] == 3
