"""Bans, unbans, kicks and timeouts done by hand in Discord's own client open cases too, from the
gateway's events (Slack sends no such events: there is nothing to test there)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.moderation import Moderation
from sandbox.discord.permissions import Permission
from sandbox.scenario import DiscordCommunity, Person, open_community
from tests.cogs.moderation.world import make_moderator
from tests.conftest import shared_dir


@pytest.fixture
async def discord(database_url: str) -> AsyncIterator[DiscordCommunity]:
    """Steward with moderation on Discord, a mod-log, and Alice a moderator."""
    shared_dir()
    async with open_community("discord", database_url, [Steward(), Moderation()]) as running:
        assert isinstance(running, DiscordCommunity)
        await make_moderator(running, running.people["alice"], running.people["ada"])
        await running.configure("moderation", modlog_channel=running.channel_mention("mods"))
        yield running
        fake = running.fake
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def _cases(community: DiscordCommunity, alice: Person) -> list[str]:
    shown = await community.slash(alice, "moderation cases")
    return community.readable(shown.text).splitlines()


async def test_a_ban_kick_timeout_and_unban_by_hand_each_open_one_case(
    discord: DiscordCommunity,
) -> None:
    fake, guild = discord.fake, discord.guild
    alice, bob, ada = (discord.people[n] for n in ("alice", "bob", "ada"))
    carol = await discord.member_joins("carol")
    await fake.moderator_bans(alice.account, guild, bob.account, reason="spam bot")
    await fake.moderator_unbans(ada.account, guild, bob.account, reason="appeal granted")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    await fake.moderator_times_out(alice.account, guild, carol.account, until, reason="heated")
    await fake.moderator_kicks(alice.account, guild, carol.account)
    await discord.settle()
    # Events about different members are handled side by side: the numbers follow arrival.
    assert sorted(line.split(" ", 1)[1] for line in await _cases(discord, alice)) == [
        "ban @bob by @alice: spam bot [actioned]",
        "kick @carol by @alice: (no reason given in Discord) [actioned]",
        "timeout @carol by @alice: heated [actioned]",
        "unban @bob by @ada: appeal granted [actioned]",
    ]
    timeout = next(line for line in await _cases(discord, alice) if "timeout" in line)
    number = int(timeout.split()[0][1:])
    case = discord.readable((await discord.slash(alice, "moderation case", number=number)).text)
    assert "in Discord's own client, until" in case
    logged = [discord.readable(m.text) for m in discord.messages_in("mods")]
    # (numbers follow arrival, as above)
    assert any(re.search(r"#\d+ ban @bob by @alice: spam bot \[actioned\]", t) for t in logged)
    # The audit entries Discord sent are what the spec describes (checked at teardown too).
    assert [e["action_type"] for e in guild.audit_log] == [22, 23, 24, 20]


async def test_steward_s_own_actions_never_open_a_second_case(discord: DiscordCommunity) -> None:
    alice, bob = discord.people["alice"], discord.people["bob"]
    carol = await discord.member_joins("carol")
    await discord.slash(alice, "moderation ban", member=bob, reason="raid links")
    await discord.slash(alice, "moderation timeout", member=carol, duration="1h", reason="calm")
    await discord.slash(alice, "moderation unban", case=1, reason="served")
    await discord.slash(alice, "moderation kick", member=carol, reason="again")
    await discord.settle()
    # Discord wrote an audit entry for each, by Steward, with the case in its reason.
    mine = [e for e in discord.guild.audit_log if e["user_id"] == discord.fake.bot.id]
    assert [e["action_type"] for e in mine] == [22, 24, 23, 20]
    assert mine[0]["reason"].startswith("Case #1 by alice: raid links")
    assert [line.split(":")[0] for line in await _cases(discord, alice)] == [
        "#4 kick @carol by @alice",
        "#3 unban @bob by @alice",
        "#2 timeout @carol by @alice",
        "#1 ban @bob by @alice",
    ]  # and nothing else


async def test_without_the_audit_log_bans_still_open_cases_and_steward_s_own_do_not(
    discord: DiscordCommunity,
) -> None:
    fake, guild = discord.fake, discord.guild
    alice, bob = discord.people["alice"], discord.people["bob"]
    carol = await discord.member_joins("carol")
    dave = await discord.member_joins("dave")
    role = fake.bot_role(guild)
    fake.set_permissions(guild, role, role.permissions & ~int(Permission.VIEW_AUDIT_LOG))
    await discord.settle()
    await discord.slash(alice, "moderation ban", member=bob, reason="raid links")
    await fake.moderator_bans(alice.account, guild, carol.account, reason="spam")
    await fake.moderator_kicks(alice.account, guild, dave.account)
    await discord.settle()
    assert await _cases(discord, alice) == [
        "#2 ban @carol by a moderator in Discord (unknown without View Audit Log): "
        "(no reason given in Discord) [actioned]",
        "#1 ban @bob by @alice: raid links [actioned]",
    ]  # a kick looks like a member leaving to the gateway: no case without the audit log


async def test_a_replayed_audit_entry_opens_no_second_case(discord: DiscordCommunity) -> None:
    fake, guild = discord.fake, discord.guild
    alice, bob = discord.people["alice"], discord.people["bob"]
    await fake.moderator_bans(alice.account, guild, bob.account, reason="spam bot")
    fake.dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE", {**guild.audit_log[-1], "guild_id": guild.id})
    await discord.settle()
    assert len(await _cases(discord, alice)) == 1


async def test_doctor_and_the_invite_ask_for_view_audit_log() -> None:
    from bot.adapters.discord.doctor import needed_permissions, permission_names
    from bot.core.registry import Registry

    names = permission_names(needed_permissions(Registry([Steward(), Moderation()])))
    assert "View Audit Log" in names
    assert "View Audit Log" not in permission_names(needed_permissions(Registry([Steward()])))
