"""Steward keeps every event and every answer through dropped gateways and 429 storms."""

from __future__ import annotations

import discord.gateway
import discord.http
import pytest

from tests.adapters.discord.conftest import StartWorld
from tests.adapters.discord.world import World


async def test_app_settings_point_discord_py_at_the_fake_only(world: World) -> None:
    """Canary: the App's endpoint settings (not a test helper) are what discord.py uses.

    The fixture resets discord.py to Discord's production URLs before building the App; if
    discord.py stopped reading ``Route.BASE``/``DEFAULT_GATEWAY`` the login would go to the real
    Discord (no network here) and this would fail loudly.
    """
    fake = world.fake
    assert fake.api_base == discord.http.Route.BASE
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    used = {r.operation_id for r in fake.requests}
    assert {"get_my_user", "bulk_set_application_commands"} <= used, used
    assert fake.gateway.identifies == 1 and fake.gateway.query.get("v") == "10"
    bot_user = world.app.discord.bot.user
    assert bot_user is not None and str(bot_user.id) == fake.bot.id
    assert world.app.discord.bot.get_guild(int(world.guild.id)) is not None


async def test_a_dropped_gateway_mid_burst_loses_no_newcomer(world: World) -> None:
    fake, guild = world.fake, world.guild
    people = [fake.add_user(f"newcomer{i}") for i in range(12)]
    for person in people[:6]:
        await fake.member_joins(guild, person)
    assert fake.drop_gateway()
    for person in people[6:]:
        await fake.member_joins(guild, person)
    await fake.wait_for(lambda: fake.gateway.resumes == 1, timeout=10)
    await fake.wait_for(lambda: all(len(fake.dms_of(p)) >= 2 for p in people), timeout=10)
    await fake.settle()
    for person in people:
        # Exactly once each: Garden's greeting and Desk's welcome, nothing replayed twice.
        assert sorted(m.content for m in fake.dms_of(person)) == [
            "Welcome to the garden",
            f"Welcome, {person.username}!",
        ]
    assert fake.gateway.identifies == 1


@pytest.mark.parametrize("global_", [False, True], ids=["bucket", "global"])
async def test_a_429_storm_delays_a_slash_reply_but_does_not_drop_it(
    world: World, global_: bool
) -> None:
    fake, guild = world.fake, world.guild
    fake.rate_limit_next(3, retry_after=0.05, global_=global_)
    mark = len(fake.requests)
    shown = await fake.invoke_slash(world.alice, guild, "desk whois", member=world.admin)
    await shown.wait()
    assert shown.ephemeral and shown.text == "ada is an admin"
    callbacks = [
        r.status for r in fake.requests[mark:] if r.operation_id == "create_interaction_response"
    ]
    assert callbacks[:3] == [429, 429, 429] and callbacks[-1] in (200, 204)


async def test_a_command_works_in_a_thread(world: World) -> None:
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    thread = fake.add_channel(guild, "seed swap", type=11, parent=general, owner=world.alice)
    await fake.settle()
    posted = await fake.invoke_slash(world.alice, thread, "desk echo", text="tomatoes here")
    await posted.wait()
    assert posted.ephemeral and posted.text == "Posted."
    assert [m.content for m in fake.messages_in(thread)] == ["tomatoes here"]
    assert fake.messages_in(general) == []
    assert posted.message is not None and posted.message.channel_id == thread.id


async def test_defer_after_must_leave_time_to_answer(start_world: StartWorld) -> None:
    with pytest.raises(ValueError, match="defer_after"):
        await start_world(defer_after=5)
