"""Automod screening members' messages: dry runs only logged, acting rules open cases."""

from __future__ import annotations

from sandbox.scenario import Community, DiscordCommunity, Person


async def test_a_rule_in_dry_run_only_logs_what_it_would_do(
    community: Community, alice: Person
) -> None:
    ada, bob = community.people["ada"], community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(ada, "moderation automod add", kind="word", value="spam", action="warn")
    await community.says(bob, "anyone want cheap sp4m?")
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    assert log[-1].startswith("Dry run: rule #1 would warn (1 point) for @bob in ")
    assert log[-1].endswith('blocked word "spam" found as "sp4m"')
    assert "No cases yet." in (await community.slash(alice, "moderation cases")).text
    assert community.dms_of(bob) == []


async def test_an_acting_rule_opens_a_case_with_the_evidence(
    community: Community, alice: Person
) -> None:
    ada, bob = community.people["ada"], community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(ada, "moderation automod add", kind="word", value="spam", action="warn")
    await community.slash(ada, "moderation automod add", kind="invite", value="-", action="delete")
    await community.slash(ada, "moderation automod dryrun", rule=1, state="off")
    await community.slash(ada, "moderation automod dryrun", rule=2, state="off")
    await community.says(bob, "SPAM time")
    assert "You were warned by the moderators" in community.dms_of(bob)[-1].text
    assert 'Reason: rule #1: blocked word "spam" found as "SPAM"' in community.dms_of(bob)[-1].text
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    # The evidence, kept on the case: where and what was said.
    assert "(#general " in shown and "UTC: SPAM time)" in shown
    await community.says(bob, "join discord.gg/abc123 now")
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    assert "#2 automod @bob by automod:2: rule #2: an invite link" in log[-1]
    if isinstance(community, DiscordCommunity):
        assert "] Automod deleted the message." in log[-1]
        assert not [m for m in community.messages_in("general") if "discord.gg" in m.text]
    else:
        assert "] Automod alerted the moderators." in log[-1]


async def test_a_rule_spares_the_roles_and_channels_it_is_told_to(
    community: Community, alice: Person
) -> None:
    ada, bob = community.people["ada"], community.people["bob"]
    carl = await community.member_joins("carl")
    community.add_role("Trusted")
    await community.set_role(carl, "Trusted", has=True)
    await community.slash(ada, "moderation automod add", kind="word", value="spam", action="warn")
    await community.slash(ada, "moderation automod dryrun", rule=1, state="off")
    spared = await community.slash(
        ada,
        "moderation automod exempt",
        rule=1,
        state="on",
        role="@Trusted",
        channel="#intros",
    )
    # Slack names the user group by its handle, as plain text that pings nobody.
    assert community.readable(spared.text) == (
        '#1 word "spam" → warn (1 point) (not for @Trusted, #intros)'
    )
    await community.says(bob, "spam here", channel="intros")
    await community.says(carl, "spam from the trusted")
    assert (await community.slash(alice, "moderation cases")).text == "No cases yet."
    await community.slash(
        ada,
        "moderation automod exempt",
        rule=1,
        state="off",
        channel="#intros",
    )
    await community.says(bob, "spam again", channel="intros")
    listed = community.readable((await community.slash(alice, "moderation cases")).text)
    assert listed.startswith("#1 automod @bob by automod:1")
    assert "@carl" not in listed
