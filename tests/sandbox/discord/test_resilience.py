"""Dropped gateways are resumed with nothing lost; 429 storms and 5xx are survived."""

from __future__ import annotations

import time

import discord
import pytest

from sandbox.discord import FakeDiscord
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_resume_after_a_dropped_gateway_replays_every_missed_event(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    await fake_discord.settle()
    assert fake_discord.drop_gateway()
    sent = [await fake_discord.user_says(world.alice, world.general, f"m{i}") for i in range(10)]
    await fake_discord.wait_for(lambda: fake_discord.gateway.resumes == 1, timeout=10)
    await fake_discord.settle()
    assert [m.content for m in bot.seen] == [m.content for m in sent]
    assert bot.resumed_count == 1 and fake_discord.gateway.identifies == 1


async def test_a_lossy_resume_replays_nothing_sent_while_down(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    await fake_discord.settle()
    assert fake_discord.drop_gateway(replay=False)
    lost = await fake_discord.user_says(world.alice, world.general, "lost")
    await fake_discord.wait_for(lambda: fake_discord.gateway.resumes == 1, timeout=10)
    await fake_discord.user_says(world.alice, world.general, "after")
    await fake_discord.settle()
    assert [m.content for m in bot.seen] == ["after"]
    assert [f["d"]["id"] for f in fake_discord.gateway.lost] == [lost.id]
    assert bot.resumed_count == 1 and fake_discord.gateway.identifies == 1


async def test_op7_reconnect_resumes(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    fake_discord.request_reconnect()
    await fake_discord.user_says(world.bob, world.general, "after reconnect")
    await fake_discord.wait_for(lambda: fake_discord.gateway.resumes == 1)
    await fake_discord.settle()
    assert [m.content for m in bot.seen] == ["after reconnect"]


async def test_a_429_storm_delays_but_does_not_drop_a_send(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    channel = bot.get_channel(int(world.general.id))
    assert isinstance(channel, discord.TextChannel)
    fake_discord.rate_limit_next(3, retry_after=0.05)
    started = time.monotonic()
    await channel.send("still delivered")
    assert time.monotonic() - started >= 0.15
    assert [m.content for m in fake_discord.messages_in(world.general)] == ["still delivered"]
    statuses = [r.status for r in fake_discord.requests[-4:]]
    assert statuses == [429, 429, 429, 200]


async def test_server_errors_surface_as_discord_server_error(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    channel = bot.get_channel(int(world.general.id))
    assert isinstance(channel, discord.TextChannel)
    fake_discord.fail_next(1, status=503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("lost")
    assert fake_discord.messages_in(world.general) == []
