"""The escalation ladder in chat: the third warning in 30 days brings a one-day timeout, once."""

from __future__ import annotations

from sandbox.scenario import Community, DiscordCommunity, Person


async def test_the_third_warning_times_the_member_out_once(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    for why in ("rude", "rude again"):
        done = await community.slash(alice, "moderation warn", member=bob, reason=why)
        assert "ladder" not in done.text
    third = await community.slash(alice, "moderation warn", member=bob, reason="still rude")
    assert community.readable(third.text).endswith("The escalation ladder opened case #4: timeout.")
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    assert any(
        "#4 timeout @bob by ladder:3: escalation: 3 points in 30 days reached 3" in t for t in log
    )
    if isinstance(community, DiscordCommunity):
        assert "You were timed out for 1d" in community.dms_of(bob)[-1].text
        assert community.guild.members[bob.id].communication_disabled_until is not None
    else:
        assert log[-1].endswith("[open] Waiting for a workspace admin.")
        assert "Case #4: Slack has no timeouts" in log[-2] and "then press Mark done" in log[-2]
    fourth = await community.slash(alice, "moderation warn", member=bob, reason="and again")
    assert "ladder" not in fourth.text  # 4 points: the timeout step is not taken twice


async def test_voided_warnings_do_not_count(community: Community, alice: Person) -> None:
    bob = community.people["bob"]
    await community.slash(alice, "moderation warn", member=bob, reason="a")
    await community.slash(alice, "moderation warn", member=bob, reason="b")
    await community.slash(alice, "moderation void", number=2, why="mistaken identity")
    third = await community.slash(alice, "moderation warn", member=bob, reason="c")
    assert "ladder" not in third.text


async def test_managers_set_the_ladder_from_chat(community: Community, alice: Person) -> None:
    ada, bob = community.people["ada"], community.people["bob"]
    refused = await community.slash(
        ada, "steward settings set", feature="moderation", key="ladder_steps", value="2 mute 1d"
    )
    assert "a timeout, kick or ban" in refused.text and "is now" not in refused.text
    await community.configure("moderation", ladder_steps="2 kick")
    await community.slash(alice, "moderation warn", member=bob, reason="rude")
    second = await community.slash(alice, "moderation warn", member=bob, reason="rude again")
    assert community.readable(second.text).endswith("The escalation ladder opened case #3: kick.")
    if isinstance(community, DiscordCommunity):
        assert bob.id not in community.guild.members
