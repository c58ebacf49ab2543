"""A join replayed by a RESUME reaches Steward although the guild's members were read first.

A new process that resumes a kept gateway session reads the guild's members over REST before
the RESUME (``resume.warm``): the newcomers whose GUILD_MEMBER_ADD the replay brings are already
among them. discord.py discards a member add for a member it has cached, so each replayed join
was dropped unseen and the session's watermark went past it (the kill matrix on PostgreSQL lost
252 acked joins so, past the catch-up's ``RECENT_JOINS``). Here discord.py's own client state
and the gateway connection class Steward installs parse the replayed frame, as they do in
``steward run``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import yarl

from bot.adapters.discord.gateway import StewardBot
from bot.adapters.discord.resume import Plan, ResumingWebSocket, SessionKeeper
from bot.core.clock import SystemClock
from bot.core.events import MemberJoined
from sandbox.discord import FakeDiscord, payloads
from sandbox.scenario._open import _seed_discord


class Adapter:
    """What the client hands its events to; a join is handled once ``handled`` is set."""

    def __init__(self) -> None:
        self.joined: list[str] = []
        self.handled = asyncio.Event()

    async def sync_commands(self, bot: StewardBot) -> None:
        del bot

    async def publish(self, event: Any) -> None:
        if isinstance(event, MemberJoined):
            self.joined.append(event.member.ref.id)
            await self.handled.wait()

    async def press(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs


async def _written() -> bool:
    return True


async def test_a_replayed_join_of_a_member_read_before_the_resume_is_handled() -> None:
    fake = FakeDiscord()
    guild, _people, _settings = _seed_discord(fake)
    newcomer = fake.add_user("newcomer")
    member = fake.add_member(guild, newcomer)  # joined while no Steward process ran

    adapter = Adapter()
    bot = StewardBot(adapter, intents=discord.Intents.all())
    # What warm() leaves in the cache: the guild with every member, the newcomer among them.
    state = bot._connection
    state._add_guild_from_data(payloads.guild_create(fake.world, guild, fake.bot.id, guild.members))
    cached = bot.get_guild(int(guild.id))
    assert cached is not None and cached.get_member(int(newcomer.id)) is not None
    count = cached.member_count

    keeper = SessionKeeper(lambda: None, SystemClock(), _written)  # type: ignore[arg-type,return-value]
    ws = ResumingWebSocket(None, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    ws._discord_parsers = state.parsers
    ws._dispatch = bot.dispatch
    ws.keeper, ws.session_id, ws.sequence = keeper, "kept", 5
    ws.gateway = yarl.URL("ws://127.0.0.1/resume/")
    ws.shard_id = None
    keeper._kept[0] = (1, Plan("kept", "ws://127.0.0.1/resume/", 5))  # as load() reads it
    keeper.take(0, 1)  # the kept session, resumed from sequence 5
    ws.replaying = True  # sent RESUME: what comes before RESUMED is a replay

    frame = {
        "op": 0,
        "s": 6,
        "t": "GUILD_MEMBER_ADD",
        "d": {
            **payloads.member(fake.world, member),
            "guild_id": guild.id,
        },
    }
    try:
        await bot._async_setup_hook()  # the loop, as ``async with`` or login sets it
        await ws.received_message(json.dumps(frame))
        await asyncio.sleep(0.05)
        # Steward got the join, and the kept sequence waits until it is handled.
        assert adapter.joined == [newcomer.id]
        assert keeper.marks[0].low == 5
        adapter.handled.set()
        await asyncio.sleep(0.05)
        assert keeper.marks[0].low == 6
        assert cached.member_count == count  # counted once, not again for the replay
    finally:
        if keeper._saving is not None:
            keeper._saving.cancel()
        await bot.close()
