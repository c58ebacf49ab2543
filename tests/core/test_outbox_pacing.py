"""A burst through the outbox stays under the platforms' limits: no 429 Steward could avoid.

The fakes limit like the platforms (50 requests a second on Discord, 5 messages per 5 s per
channel; 1 post a second per Slack channel). Here both run them at speed 2 (half a second for
Discord's second and Slack's), slow enough that a client that does not pace meets them.
"""

from __future__ import annotations

import pytest

from bot.app import App
from bot.core.communities import ensure_community
from bot.core.ids import ChannelRef, CommunityRef
from bot.core.message import Message
from bot.core.outbox import Outbox
from sandbox.scenario._open import open_discord, open_slack
from tests.conftest import shared_dir


async def _burst(app: App, community: CommunityRef, channels: list[str], each: int) -> None:
    """Queue ``each`` posts per channel in one transaction, as a relay's fan-out does."""
    async with app.db.uow() as uow:
        await ensure_community(uow.session, community, app.clock.now())
        outbox = Outbox(uow, community, "announcements", app.clock, app.dispatcher.deliverer)
        for n in range(each):
            for c, channel in enumerate(channels):
                target = ChannelRef(community, channel)
                await outbox.deliver(target, Message(f"{c}:{n}"), key=f"{c}:{n}")
        await uow.commit()


async def test_a_burst_to_many_discord_channels_keeps_under_the_global_limit(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_dir()
    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "2")
    from sandbox.discord import FakeDiscord

    async with FakeDiscord() as fake, open_discord(database_url, [], fake=fake) as community:
        channels = [fake.add_channel(community.guild, f"relay-{c}") for c in range(60)]
        where = CommunityRef("discord", community.guild.id)
        await _burst(community.app, where, [c.id for c in channels], 2)
        await community.settle()

        assert fake.rest.limits.counts == {}  # not one 429, global or per channel
        for c, channel in enumerate(channels):
            assert [m.content for m in fake.messages_in(channel)] == [f"{c}:0", f"{c}:1"]
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_posts_to_one_slack_channel_wait_their_second(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_dir()
    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "2")
    from sandbox.slack import FakeSlack

    async with FakeSlack() as fake, open_slack(database_url, [], fake=fake) as community:
        channels = [fake.add_channel(f"relay-{c}") for c in range(2)]
        where = CommunityRef("slack", fake.team.id)
        await _burst(community.app, where, [c.id for c in channels], 3)
        await community.settle()

        assert [c.status for c in fake.calls_to("chat.postMessage")].count(429) == 0
        for c, channel in enumerate(channels):
            texts = [m.text for m in fake.messages_in(channel.id)]
            assert texts == [f"{c}:0", f"{c}:1", f"{c}:2"]
        assert not fake.violations, "\n".join(str(v) for v in fake.violations)
