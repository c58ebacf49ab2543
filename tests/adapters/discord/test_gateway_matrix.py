"""The gateway disconnect matrix (security study §8, test 15): the real App and discord.py
against the fake gateway, one fault a cell.

Around each fault a member posts and newcomers join; each event is handled exactly once (one
welcome DM each, each message counted once in engagement and in the report a manager reads),
and the messages the platform does not replay are read back from history by catch-up. What
Steward did is compared with what the fake gateway saw: IDENTIFYs, RESUMEs, close codes.
4014 and 4004 after startup: Discord stays down with the reason in /healthz and in one log
line, nothing reconnects, and Slack keeps being served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.adapters.discord.gateway import StewardBot
from bot.app import App
from bot.builtin import Steward
from bot.core.members import Level
from cogs.engagement import Engagement
from sandbox.discord import FakeDiscord
from sandbox.scenario import DiscordCommunity, Person, open_both, open_discord
from tests.adapters.desk import Desk
from tests.cogs.engagement.test_catchup import (
    Readiness,
    Said,
    assert_stored_exactly,
    said,
    says_while_away,
)
from tests.conftest import shared_dir

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Fault:
    """One cell: how the fault is made, and what Discord then does with the session."""

    make: Callable[[FakeDiscord], Awaitable[object]]
    resumed: bool  # the session survives: RESUME, and the gap is replayed (unless lossy)
    replayed: bool  # the fake delivers what was dispatched during the gap


async def _drop(fake: FakeDiscord) -> bool:
    return fake.drop_gateway()


async def _drop_lossy(fake: FakeDiscord) -> bool:
    return fake.drop_gateway(replay=False)


async def _reconnect(fake: FakeDiscord) -> None:
    fake.request_reconnect()


async def _invalid_resumable(fake: FakeDiscord) -> None:
    fake.invalidate_session(resumable=True)


async def _invalid(fake: FakeDiscord) -> None:
    fake.invalidate_session(resumable=False)


async def _zombie(fake: FakeDiscord) -> bool:
    return fake.zombie_gateway()


async def _timed_out(fake: FakeDiscord) -> None:
    await fake.close_gateway(4009)


MATRIX = {
    "tcp_drop": Fault(_drop, resumed=True, replayed=True),
    "tcp_drop_lossy": Fault(_drop_lossy, resumed=True, replayed=False),
    "op7_reconnect": Fault(_reconnect, resumed=True, replayed=True),
    "op9_resumable": Fault(_invalid_resumable, resumed=True, replayed=True),
    "op9_not_resumable": Fault(_invalid, resumed=False, replayed=False),
    "zombie": Fault(_zombie, resumed=True, replayed=True),
    "close_4009": Fault(_timed_out, resumed=False, replayed=False),
}


def welcomes(community: DiscordCommunity, person: Person) -> list[str]:
    """The welcome DMs a newcomer got from Steward."""
    return [m.text for m in community.dms_of(person) if m.text.startswith("Welcome")]


async def newcomer(community: DiscordCommunity, name: str) -> Person:
    """A user joins, straight into the fake (Steward may not be there to hear it)."""
    fake = community.fake
    user = fake.add_user(name)
    await fake.member_joins(community.guild, user)
    person = Person(name, Level.MEMBER, user.id, user)
    community.people[name] = person
    return person


@pytest.mark.parametrize("cell", list(MATRIX))
async def test_each_event_around_a_gateway_fault_is_handled_once(
    database_url: str, cell: str
) -> None:
    shared_dir()
    fault = MATRIX[cell]
    readiness = Readiness()
    features = [Steward(), Engagement(flush_after=0), Desk(), readiness]
    async with open_discord(database_url, features) as community:
        fake, gateway = community.fake, community.fake.gateway
        alice, bob = community.people["alice"], community.people["bob"]
        first = await community.says(alice, "morning all, who is around today?")
        truth: list[Said] = [said(community, alice, first.raw)]
        before = await newcomer(community, "nora")
        await community.settle()
        ready, frames, ended = readiness.seen, len(gateway.client_frames), len(gateway.ended)
        identifies, resumes = gateway.identifies, gateway.resumes

        assert await fault.make(fake) is not False
        # Posted at once, before discord.py can notice and reconnect.
        asked = await says_while_away(community, alice, "is the bot still here?")
        truth += [
            asked,
            await says_while_away(community, bob, "looks like it", to=asked),
            await says_while_away(community, bob, "first words in intros", channel="intros"),
        ]
        during = await newcomer(community, "dara")

        await readiness.wait_past(ready)  # RESUMED or a new GUILD_CREATE: catch-up runs
        await community.settle()
        last = await community.says(alice, "glad you're back")
        truth.append(said(community, alice, last.raw))
        after = await newcomer(community, "ines")
        await community.settle()

        # What the fake gateway saw.
        if fault.resumed:
            assert (gateway.identifies, gateway.resumes) == (identifies, resumes + 1)
        else:
            assert (gateway.identifies, gateway.resumes) == (identifies + 1, resumes)
        sent = [f.op for f in gateway.client_frames[frames:] if f.op in (2, 6)]
        if cell == "close_4009":
            assert gateway.close_codes[-1] == 4009
            assert sent == [6, 2]  # the RESUME is refused: the session timed out
        elif cell == "op9_not_resumable":
            assert sent == [2]
        else:
            assert sent == [6]
        if cell == "zombie":
            assert gateway.ended[ended] == 4000  # discord.py closed the silent connection
        if cell == "tcp_drop_lossy":
            lost = [f["t"] for f in gateway.lost]
            assert lost.count("MESSAGE_CREATE") == 3 and "GUILD_MEMBER_ADD" in lost

        # What members and managers see: each welcome once, each message counted once.
        assert welcomes(community, before) == ["Welcome, nora!"]
        assert welcomes(community, after) == ["Welcome, ines!"]
        # A join is not in any channel's history: one the platform did not replay is not seen.
        assert welcomes(community, during) == (["Welcome, dara!"] if fault.replayed else [])
        await assert_stored_exactly(community, truth)
        fake.assert_clean()


# ----------------------------------------------------------------- refused after startup


async def get(app: App, path: str) -> tuple[int, str]:
    assert app.web is not None
    url = f"http://127.0.0.1:{app.web.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


REFUSALS: dict[int, tuple[str, str]] = {
    4014: (
        "a privileged intent the features need was switched off, close code 4014",
        "switch it on in Developer Portal → Bot",
    ),
    4004: (
        "the token was reset or revoked, close code 4004",
        "put the new token from the Developer Portal (Bot → Reset Token) in STEWARD_DISCORD_TOKEN",
    ),
}


@pytest.mark.parametrize("code", list(REFUSALS))
async def test_a_refusal_after_startup_stops_discord_and_says_why(
    database_url: str, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    shared_dir()
    reason, advice = REFUSALS[code]
    settings: dict[str, Any] = {"http_port": 0, "metrics": True}
    async with open_both(database_url, [Steward(), Desk()], config=settings) as (
        on_discord,
        on_slack,
    ):
        app, fake = on_discord.app, on_discord.fake
        assert await get(app, "/healthz") == (200, "ready\n")
        identifies, connections = fake.gateway.identifies, fake.gateway.connections
        mark = len(fake.gateway.client_frames)
        with caplog.at_level(logging.INFO):
            if code == 4014:
                await fake.switch_off_privileged_intents()
            else:
                await fake.reset_token()
            ended = app.discord._task
            assert ended is not None
            await asyncio.wait({ended}, timeout=10)  # the adapter hears of it first
            assert app.discord.problem is not None
            # Long enough for discord.py's reconnect backoff and several identify waits.
            await asyncio.sleep(StewardBot.IDENTIFY_WAIT / app.config.platform_speed * 10)

        assert app.discord.bot.is_closed()
        assert (fake.gateway.identifies, fake.gateway.connections) == (identifies, connections)
        assert [f.op for f in fake.gateway.client_frames[mark:] if f.op in (2, 6)] == []
        assert fake.gateway.close_codes[-1] == code

        # The operator: one sentence at ERROR saying what to do, no traceback.
        told = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.name for r in told] == ["steward.discord"], [r.getMessage() for r in told]
        [record] = told
        assert record.exc_info is None and record.levelno == logging.ERROR
        message = record.getMessage()
        assert reason in message and advice in message and "restart Steward" in message
        status, text = await get(app, "/healthz")
        assert (status, text) == (503, f"degraded: discord stopped: {reason}\n")
        _, metrics = await get(app, "/metrics")
        assert 'steward_platform_connected{platform="discord"} 0.0' in metrics
        assert 'steward_platform_connected{platform="slack"} 1.0' in metrics

        # Slack is still served by the same process.
        ada = on_slack.people["ada"]
        posted = await on_slack.slash(ada, "desk echo", text="Slack still works")
        assert posted.text == "Posted."
        assert [m.text for m in on_slack.messages_in("general")] == ["Slack still works"]
