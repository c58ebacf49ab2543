"""Processes that split a bot's shards split Discord's global budget: together, never over it.

Three processes, one shard of three each, send a burst at once through the pacing each gives
discord.py (``global_pacing`` with the share its configuration makes). The fake Discord counts
the global limit per bot token, across every connection, as Discord does.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.adapters.discord.client import global_pacing
from bot.config import Config, ConfigError
from bot.core.pacing import Limits
from sandbox.discord import FakeDiscord
from sandbox.discord import limits as fake_limits

SPEED = 1.0
"""Discord's own second, on both sides: a burst of 180 lands within one window unpaced."""


async def test_three_processes_of_one_shard_each_stay_within_the_global_limit_together() -> None:
    async with FakeDiscord() as fake:
        fake.rest.limits = fake_limits.Limits(speed=SPEED)
        guild = fake.add_guild("Busy")
        channels = [fake.add_channel(guild, f"room{n}") for n in range(3)]
        headers = {"Authorization": f"Bot {fake.token}"}

        async def process(shard: int) -> list[int]:
            config = Config(_env_file=None, discord_shard_count=3, discord_shard_ids=str(shard))
            config.check()
            trace = global_pacing(Limits(SPEED, discord_share=config.discord_budget_share))
            url = f"{fake.api_base}/channels/{channels[shard].id}"
            async with aiohttp.ClientSession(headers=headers, trace_configs=[trace]) as http:

                async def one() -> int:
                    async with http.get(url) as answer:
                        await answer.read()
                        return answer.status

                return await asyncio.gather(*(one() for _ in range(60)))

        statuses = [s for part in await asyncio.gather(*map(process, range(3))) for s in part]
        assert statuses.count(200) == 180
        assert fake.rest.limits.counts.get("global", 0) == 0


def test_shard_settings_that_cannot_work_stop_the_start_with_what_to_set() -> None:
    with pytest.raises(ConfigError, match="needs STEWARD_DISCORD_SHARD_COUNT"):
        Config(_env_file=None, discord_shard_ids="0").check()
    with pytest.raises(ConfigError, match=r"shard 3 does not exist.*0 to 2"):
        Config(_env_file=None, discord_shard_count=3, discord_shard_ids="1,3").check()
    with pytest.raises(ValueError, match="not a list of shard numbers"):
        Config(_env_file=None, discord_shard_ids="one")
    assert Config(_env_file=None, discord_shard_count=2).discord_shards == (2, [0, 1])
