"""Timeouts, kicks and bans: told first, then done on Discord; handed to an admin on Slack."""

from __future__ import annotations

from sandbox.scenario import Community, DiscordCommunity, Person


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
