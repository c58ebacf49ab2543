"""The fake gateway resumes a session as Discord does, and refuses what Discord refuses.

A raw websocket client (no discord.py: it would resume by its own rules) identifies, receives,
drops the connection without a close frame (as a killed process does), and sends RESUME. Taken
only at READY's ``resume_gateway_url``, with the session's token, within the resume window, from
a sequence the buffer still holds: every dispatch after it comes again, then RESUMED (which a
later RESUME does not replay). Anything else gets op 9 INVALID_SESSION, ``d`` false. A client's
close with 1000 ends the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from sandbox.discord import FakeDiscord

INTENTS = (1 << 0) | (1 << 1) | (1 << 9) | (1 << 15)


class Connection:
    """One websocket to the fake."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> dict[str, Any]:
        """The next frame that is not a heartbeat ACK."""
        while True:
            frame: dict[str, Any] = await self.ws.receive_json(timeout=30)
            if frame["op"] != 11:
                return frame


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[Connection]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=30)
        assert hello["op"] == 10
        yield Connection(ws)


async def _identified(fake: FakeDiscord) -> tuple[str, str, int]:
    """Identify, take READY and the guilds, drop the connection (no close frame); return the
    session id, the resume URL and the last sequence received."""
    async with connect(fake.gateway_url) as c:
        d = {"token": fake.token, "intents": INTENTS, "properties": {"os": "linux"}}
        await c.ws.send_json({"op": 2, "d": d})
        ready = await c.frame()
        assert ready["t"] == "READY"
        last = ready["s"]
        session = fake.gateway.session
        assert session is not None
        while last < session.seq:
            last = (await c.frame())["s"]
        assert fake.gateway.drop()
    await fake.wait_for(lambda: not fake.gateway.connected, timeout=10)
    return ready["d"]["session_id"], ready["d"]["resume_gateway_url"], last


async def _resume(
    fake: FakeDiscord, url: str, d: dict[str, Any], *, close: int | None = None
) -> list[dict[str, Any]]:
    """Send RESUME; the frames up to RESUMED, or the op 9 answer. A resumed connection is then
    dropped (as a killed process's is), or closed with ``close``."""
    async with connect(url) as c:
        await c.ws.send_json({"op": 6, "d": d})
        frames = []
        while frames[-1:] == [] or not (frames[-1]["op"] == 9 or frames[-1]["t"] == "RESUMED"):
            frames.append(await c.frame())
        if frames[-1]["op"] == 0:
            if close is None:
                assert fake.gateway.drop()
            else:
                await c.ws.close(code=close)
            await fake.wait_for(lambda: not fake.gateway.connected, timeout=10)
        return frames


async def _three_posts(fake: FakeDiscord) -> list[str]:
    guild = next(iter(fake.world.guilds.values()))
    general = guild.channel_named("general")
    ann = fake.add_user("ann")
    await fake.member_joins(guild, ann)
    return [(await fake.user_says(ann, general, f"post {n}")).id for n in range(3)]


@pytest.fixture
async def fake(fake_discord: FakeDiscord) -> FakeDiscord:
    fake_discord.add_guild("Garden")
    return fake_discord


async def test_resume_replays_every_dispatch_after_the_sequence_then_resumed(
    fake: FakeDiscord,
) -> None:
    session_id, url, last = await _identified(fake)
    assert url != fake.gateway_url  # the session's own URL
    posts = await _three_posts(fake)  # sent while no connection: buffered for a RESUME
    d = {"token": fake.token, "session_id": session_id, "seq": last}
    frames = await _resume(fake, url, d)
    assert [f["t"] for f in frames] == ["GUILD_MEMBER_ADD", *["MESSAGE_CREATE"] * 3, "RESUMED"]
    assert [f["d"]["id"] for f in frames[1:4]] == posts
    assert [f["s"] for f in frames[:4]] == list(range(last + 1, last + 5))

    # From an earlier sequence (a process that stored less): from there on, RESUMED not again.
    frames = await _resume(fake, url, {**d, "seq": last + 2})
    assert [f["t"] for f in frames] == ["MESSAGE_CREATE", "MESSAGE_CREATE", "RESUMED"]
    assert [f["d"]["id"] for f in frames[:2]] == posts[1:]
    assert fake.gateway.resumes == 2 and fake.gateway.invalid_resumes == 0


@pytest.mark.parametrize(
    "wrong",
    ["url", "token", "session", "seq ahead", "seq too old", "window passed", "closed with 1000"],
)
async def test_a_resume_discord_would_refuse_gets_invalid_session(
    fake: FakeDiscord, wrong: str
) -> None:
    session_id, url, last = await _identified(fake)
    await _three_posts(fake)
    d: dict[str, Any] = {"token": fake.token, "session_id": session_id, "seq": last}
    if wrong == "url":
        url = fake.gateway_url  # where it identified, not its resume_gateway_url
    elif wrong == "token":
        session = fake.gateway.session
        assert session is not None
        session.token = "another bot's token"  # the session is another token's
    elif wrong == "session":
        d["session_id"] = "0" * 32
    elif wrong == "seq ahead":
        d["seq"] = last + 100
    elif wrong == "seq too old":
        session = fake.gateway.session
        assert session is not None
        del session.frames[:3]  # the buffer no longer holds what follows the sequence
    elif wrong == "window passed":
        fake.gateway.resume_window = 0.0
    else:
        frames = await _resume(fake, url, d, close=1000)  # resumed, then closed cleanly
        assert frames[-1]["t"] == "RESUMED"
    frames = await _resume(fake, url, d)
    assert frames == [{"op": 9, "d": False, "s": None, "t": None}]
    assert fake.gateway.invalid_resumes == 1
