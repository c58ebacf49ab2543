"""Timeouts, kicks and bans: told first, then done on Discord; handed to an admin on Slack."""

from __future__ import annotations

import pytest

from sandbox.discord.permissions import Permission
from sandbox.scenario import Community, DiscordCommunity, Person, SlackCommunity


async def test_a_ban_is_announced_to_the_member_before_it_happens(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    done = await community.slash(alice, "moderation ban", member=bob, reason="raid links")
    said = community.readable(done.text)
    assert done.ephemeral
    if isinstance(community, DiscordCommunity):
        assert said == "Case #1: banned @bob. They were told by direct message."
        notice = community.dms_of(bob)[-1].text
        assert "You were banned by the moderators" in notice and "raid links" in notice
        assert bob.id in community.guild.bans and bob.id not in community.guild.members
    else:
        assert said.startswith("Case #1 is open. Slack apps cannot ban: a workspace admin")
        assert not [m for m in community.dms_of(bob) if "banned" in m.text]
    shown = await community.slash(alice, "moderation cases")
    assert "#1 ban @bob by @alice: raid links" in community.readable(shown.text)


async def test_a_timeout_silences_the_member_until_it_ends(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    done = await community.slash(
        alice, "moderation timeout", member=bob, duration="1d", reason="heated"
    )
    if isinstance(community, DiscordCommunity):
        assert community.readable(done.text).startswith("Case #1: timed out @bob.")
        assert "You were timed out for 1d by the moderators" in community.dms_of(bob)[-1].text
        assert community.guild.members[bob.id].communication_disabled_until is not None
    else:
        assert "Slack has no timeouts" in done.text


async def test_a_timeout_longer_than_28_days_is_refused_before_anything(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    done = await community.slash(
        alice, "moderation timeout", member=bob, duration="29d", reason="x"
    )
    assert done.ephemeral and "28 days" in done.text
    assert "No cases yet." in (await community.slash(alice, "moderation cases")).text
    assert community.dms_of(bob) == []


async def test_a_kick_by_discord_ui_rules_still_refuses_a_peer(
    community: Community, alice: Person
) -> None:
    ada = community.people["ada"]
    done = await community.slash(alice, "moderation kick", member=ada, reason="x")
    assert "level with you or above" in done.text
    if isinstance(community, DiscordCommunity):
        assert ada.id in community.guild.members


# Only on Discord (Slack apps never ban: the next test tells that story).
@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_a_ban_discord_refuses_leaves_the_case_open_and_tells_the_staff_once(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    bot_role = community.fake.bot_role(community.guild)
    bot_role.permissions &= ~int(Permission.BAN_MEMBERS)
    done = await community.slash(alice, "moderation ban", member=bob, reason="raid links")
    assert community.readable(done.text) == (
        "Case #1 is open, but I couldn't ban @bob: the platform refused. "
        "The staff were told what to fix."
    )
    assert bob.id in community.guild.members and bob.id not in community.guild.bans
    alerts = [
        community.readable(m.text)
        for m in community.messages_in("mods")
        if "couldn't ban" in m.text
    ]
    assert len(alerts) == 1 and "missing a permission" in alerts[0]
    assert "Case #1 stays open until someone does it." in alerts[0]
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "Status: open" in shown
    bot_role.permissions |= int(Permission.BAN_MEMBERS)
    again = await community.slash(alice, "moderation ban", member=bob, reason="raid links")
    assert community.readable(again.text).startswith("Case #2: banned @bob.")
    assert bob.id in community.guild.bans


# Only on Slack: Discord bans by itself.
@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_what_slack_leaves_to_an_admin_is_marked_done_once(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation kick", member=bob, reason="raid links")
    asked = [m for m in community.messages_in("mods") if community.offers(m, "done")]
    assert len(asked) == 1
    assert "Case #1: Slack apps cannot remove people" in community.readable(asked[0].text)
    pressed = await community.click(alice, asked[0], "done")
    assert pressed.ephemeral and pressed.text == "Case #1 is marked done."
    twice = await community.click(alice, asked[0], "done")
    assert twice.text == "Case #1 is already actioned."
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    moves = [line.split(" UTC ")[1] for line in shown.splitlines() if " UTC " in line]
    assert moves == ["action by @alice: open → actioned"]


async def test_a_timed_ban_is_lifted_by_its_timer_and_unban_lifts_one_early(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    timed = await community.slash(
        alice, "moderation ban", member=bob, reason="raid links", duration="3d"
    )
    for_good = await community.slash(alice, "moderation ban", member=carl, reason="scams")
    if isinstance(community, DiscordCommunity):
        assert community.readable(timed.text).endswith("The ban lifts itself in 3d.")
        assert {bob.id, carl.id} <= set(community.guild.bans)
    else:
        assert timed.text.endswith("In 3d the staff will be asked to reactivate it.")
    await community.advance(days=2)
    if isinstance(community, DiscordCommunity):
        assert bob.id in community.guild.bans
    await community.advance(days=1)
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    if isinstance(community, DiscordCommunity):
        assert bob.id not in community.guild.bans and carl.id in community.guild.bans
        assert any(
            "#3 unban @bob by timer:1: the ban of case #1 ended [actioned]" in t for t in log
        )
    else:
        assert any("Case #3: Slack apps cannot lift bans" in t for t in log)
    early = await community.slash(alice, "moderation unban", case=2, reason="talked it over")
    again = await community.slash(alice, "moderation unban", case=2, reason="again")
    not_a_ban = await community.slash(alice, "moderation unban", case=3, reason="x")
    assert not_a_ban.text == "Case #3 is a unban, not a ban."
    if isinstance(community, DiscordCommunity):
        assert community.readable(early.text) == "Case #4: lifted the ban of case #2 on @carl."
        assert carl.id not in community.guild.bans
        assert again.text == "The ban of case #2 was already lifted."
        assert for_good.text.startswith("Case #2: banned")
    else:
        assert early.text.startswith("Case #4 is open. Slack apps cannot lift bans")


async def test_purge_deletes_the_members_latest_messages_in_one_call(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    for text in ("buy", "cheap", "followers"):
        await community.says(bob, text)
    await community.says(ada, "please stop")
    done = await community.slash(alice, "moderation purge", member=bob, count=2, channel="#general")
    left = [m.text for m in community.messages_in("general")]
    if isinstance(community, DiscordCommunity):
        assert community.readable(done.text) == (
            "Case #1: deleted 2 of @bob's recent messages in #general."
        )
        assert "buy" in left and "cheap" not in left and "followers" not in left
        assert "please stop" in left
    else:
        assert done.text.startswith("Case #1 is open. Slack apps may delete only their own")
        assert {"buy", "cheap", "followers"} <= set(left)
    too_many = await community.slash(alice, "moderation purge", member=bob, count=500)
    assert too_many.text == "Purge takes from 1 to 100 messages."


# Only on Slack: a Discord kick removes the member from every channel by itself.
@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_on_slack_a_kick_can_take_the_member_out_of_the_channels_meanwhile(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("moderation", slack_remove_from_channels="true")
    done = await community.slash(alice, "moderation kick", member=bob, reason="raid links")
    assert done.text.endswith("Meanwhile I removed them from 3 channels.")
    assert isinstance(community, SlackCommunity)
    inside = [name for name, ch in community.channels.items() if bob.id in ch.members]
    assert inside == ["general"]  # nobody can be removed from #general
