"""A newcomer's whole way in, on Discord and on Slack: what they, the buddy and managers see."""

from __future__ import annotations

from sandbox.scenario import Community, SlackCommunity
from tests.cogs.onboarding.world import (
    chart_sent,
    grantable,
    holds,
    option_values,
    standard_setup,
)


async def test_newcomer_is_welcomed_agrees_picks_introduces_and_is_answered(
    community: Community,
) -> None:
    ada, alice, bob = (community.people[n] for n in ("ada", "alice", "bob"))
    await standard_setup(community, greeters=["alice"])
    bad = await community.slash(ada, "onboarding welcome set", template="Hi {member.name}")
    assert bad.ephemeral and "is not a field" in bad.text
    good = await community.slash(
        ada,
        "onboarding welcome set",
        template="Welcome to {community}, {member}! Say hi in {intro_channel}.",
    )
    assert good.ephemeral and "A newcomer would see:\nWelcome to Sandbox, ada!" in good.text
    python = grantable(community, "python")
    role, channel = python
    added = await community.slash(
        ada,
        "onboarding interest add",
        name="Python",
        emoji="🐍",
        opens=role or channel,
    )
    assert "Interest 🐍 Python saved." in added.text
    joined = await community.slash(bob, "onboarding buddy join")
    assert joined.ephemeral and "You're in the buddy pool" in joined.text

    nina = await community.member_joins("nina")

    [public] = [m for m in community.messages_in("welcome") if "Welcome" in m.text]
    assert community.readable(public.text).startswith("Welcome to Sandbox, @nina! Say hi in")
    assert community.pings_of(nina)  # the public welcome is meant to reach her
    [dm] = community.dms_of(nina)
    assert "Rules: Be kind. No spam." in dm.text and "introduce yourself in" in dm.text

    # She agrees and picks right in the DM, on both platforms.
    assert community.offers(dm, "agree") and community.offers(dm, "pick")
    agreed = await community.click(nina, dm, "agree")
    assert agreed.ephemeral and "Thanks for agreeing to the rules" in agreed.text
    again = await community.click(nina, dm, "agree")
    assert "already agreed" in again.text
    started = await community.click(nina, public, "start")
    assert started.ephemeral and "Rules: Be kind. No spam." in started.text
    assert not community.offers(started, "agree")  # agreed already, from the DM

    picked = await community.select(nina, dm, "pick", option_values(dm)[:1])
    assert picked.ephemeral and picked.text == "Got it! Your interests: 🐍 Python."
    assert holds(community, nina, python)
    # The buddy is chosen once her interests are known, and both are introduced.
    assert "Meet @bob, your buddy" in community.readable(community.dms_of(nina)[-1].text)
    assert "You're now @nina's buddy" in community.readable(community.dms_of(bob)[-1].text)

    await community.says(nina, "Hi, I'm Nina and I love Python!", channel="intros")
    await community.says(alice, f"Welcome {community.mention(nina)}!", channel="intros")
    await community.says(bob, f"Hey {community.mention(nina)}, happy to help", channel="general")

    mine = await community.slash(nina, "onboarding me")
    assert mine.ephemeral
    assert "rules: agreed" in mine.text and "interests: 🐍 Python" in mine.text
    assert "intro: posted" in mine.text and "first reply: 2026-01-05 " in mine.text
    assert "buddy: @bob, talked" in community.readable(mine.text)

    # A second newcomer's intro goes unanswered: the greeters are pinged under it.
    omar = await community.member_joins("omar")
    await community.says(omar, "Hello, Omar here.", channel="intros")
    pinged_before = len(community.pings_of(alice))
    await community.advance(minutes=61)
    unanswered = [m for m in community.pings_of(alice) if "hasn't had a reply" in m.text]
    assert len(community.pings_of(alice)) == pinged_before + 1 and len(unanswered) == 1
    assert "@omar's intro hasn't had a reply yet" in community.readable(unanswered[0].text)

    shown = await community.slash(ada, "onboarding status", member=omar)
    assert (
        shown.ephemeral and "intro: posted" in shown.text and "first reply: not yet" in shown.text
    )
    refused = await community.slash(nina, "onboarding status", member=omar)
    assert "you need to be a moderator" in refused.text

    await community.advance(days=7)
    await community.says(nina, "Still here a week later!")
    funnel = await community.slash(ada, "onboarding funnel")
    assert funnel.ephemeral
    assert (
        "week of 2026-01-05: joined 2 · agreed to rules 1 · picked interests 1 · posted an intro 2"
        " · got a reply 1 · active on day 7 1"
    ) in funnel.text
    assert chart_sent(community, funnel)


async def test_member_count_is_the_humans_in_the_preview_and_for_each_join(
    community: Community,
) -> None:
    ada = community.people["ada"]
    await standard_setup(community)
    humans = len(community.people)
    shown = await community.slash(
        ada, "onboarding welcome set", template="{member}, you are member number {member_count}."
    )
    assert shown.text.endswith(f"A newcomer would see:\nada, you are member number {humans}.")
    listed = _people_asked(community, "users.list")
    nina = await community.member_joins("nina")
    omar = await community.member_joins("omar")
    said = [community.readable(m.text) for m in community.messages_in("welcome")]
    assert f"@nina, you are member number {humans + 1}." in said
    assert f"@omar, you are member number {humans + 2}." in said
    # Each newcomer is counted in, not the whole workspace listed again for each welcome, and
    # named from the join itself, not looked up again.
    assert _people_asked(community, "users.list") == listed
    assert _people_asked(community, "users.info", about={nina.id, omar.id}) == 0


def _people_asked(community: Community, method: str, about: set[str] | None = None) -> int:
    """Slack's calls to ``method`` so far, about these users only if given (Discord has its
    count and people from the gateway: none)."""
    if not isinstance(community, SlackCommunity):
        return 0
    calls = community.fake.calls_to(method)
    return len([c for c in calls if about is None or c.args.get("user") in about])
