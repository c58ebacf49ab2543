"""The real discord.py logs in to the fake, becomes ready and caches the guild."""

from __future__ import annotations

import discord.http

from sandbox.discord import FakeDiscord
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_bot_becomes_ready_with_the_guild_cached(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    guild = bot.get_guild(int(world.guild.id))
    assert guild is not None and guild.name == "Community"
    assert guild.me is not None and guild.default_role.id == guild.id
    assert {c.name for c in guild.text_channels} == {"general"}
    assert "Member" in {r.name for r in guild.roles}
    await fake_discord.settle()
    assert guild.chunked and {m.name for m in guild.members} >= {"alice", "bob", "owner"}
    assert fake_discord.gateway.identifies == 1


async def test_configure_endpoints_is_honoured_by_discord_py(
    bot: StewardTestBot, fake_discord: FakeDiscord
) -> None:
    """Canary: if discord.py stops reading Route.BASE / DEFAULT_GATEWAY this fails loudly."""
    assert fake_discord.api_base == discord.http.Route.BASE
    used = {r.operation_id for r in fake_discord.requests}
    assert {"get_my_user", "get_my_oauth2_application"} <= used, used
    assert fake_discord.gateway.connections >= 1 and fake_discord.gateway.query.get("v") == "10"
    assert bot.user is not None and str(bot.user.id) == fake_discord.bot.id
