"""Buddies, setup faults, the preview and a join storm: what newcomers, buddies and managers see."""

from __future__ import annotations

from sandbox.scenario import Community
from tests.cogs.onboarding.world import (
    grantable,
    option_values,
    out_of_reach,
    standard_setup,
    storm,
)


async def test_buddies_share_interests_respect_capacity_and_pauses(community: Community) -> None:
    ada, alice, bob, olivia = (community.people[n] for n in ("ada", "alice", "bob", "olivia"))
    await standard_setup(community, greeters=["ada"])
    await community.slash(ada, "onboarding interest add", name="Chess", emoji="♟")
    role, channel = grantable(community, "go")
    go = await community.slash(ada, "onboarding interest add", name="Go", opens=role or channel)
    assert go.text.startswith("Interest Go saved. Picking it gives")  # no emoji: skipped by name
    for person, capacity in ((alice, 1), (bob, None), (olivia, None)):
        options = {"capacity": capacity} if capacity else {}
        await community.slash(person, "onboarding buddy join", **options)
    await community.slash(bob, "onboarding buddy pause")
    chess_players = (alice, bob)
    for person in chess_players:
        shown = await community.slash(person, "onboarding interests")
        await community.select(person, shown, "pick", option_values(shown)[:1])

    async def arrives(name: str) -> str:
        newcomer = await community.member_joins(name)
        shown = await community.slash(newcomer, "onboarding interests")
        await community.select(newcomer, shown, "pick", option_values(shown)[:1])
        return community.readable(community.dms_of(newcomer)[-1].text)

    assert "Meet @alice, your buddy" in await arrives("nina")  # shares chess, bob is paused
    assert "Meet @olivia, your buddy" in await arrives("omar")  # alice is full
    assert not [m for m in community.dms_of(bob) if "buddy" in m.text]  # paused: never picked
    assert "You're now @nina's buddy" in community.readable(community.dms_of(alice)[-1].text)

    nina = community.people["nina"]
    await community.says(alice, f"Hi {community.mention(nina)}, welcome!")
    pool = await community.slash(ada, "onboarding buddy list")
    assert "@bob (paused): 0/3" in community.readable(pool.text)
    assert "@alice: 1/1" in community.readable(pool.text)
    await community.advance(days=7, hours=1)
    talked = await community.slash(ada, "onboarding status", member=nina)
    assert "buddy: @alice, talked" in community.readable(talked.text)
    missed = await community.slash(ada, "onboarding status", member=community.people["omar"])
    assert "buddy: @olivia, didn't talk in the first week" in community.readable(missed.text)
    left = await community.slash(olivia, "onboarding buddy leave")
    assert "left the buddy pool" in left.text


async def test_missing_permission_is_told_once_and_newcomers_go_on(community: Community) -> None:
    ada = community.people["ada"]
    await standard_setup(community)
    key, value = out_of_reach(community, "vip")
    await community.configure("onboarding", **{key: value})
    for name in ("pia", "quinn"):
        newcomer = await community.member_joins(name)
        started = await community.slash(newcomer, "onboarding start")
        agreed = await community.click(newcomer, started, "agree")
        assert "Thanks for agreeing to the rules" in agreed.text
        mine = await community.slash(newcomer, "onboarding me")
        assert "rules: agreed" in mine.text
    told = [m for m in community.messages_in("mods") if "Onboarding couldn't" in m.text]
    assert len(told) == 1
    if community.platform == "discord":
        assert "I'm missing a permission, or the member's top role is above mine" in told[0].text
    else:  # the fix, in words: never Slack's raw error code
        assert "I'm not a member of that channel. Add me to it first: type `/invite @Steward`" in (
            told[0].text
        )
        assert "not_in_channel" not in told[0].text
    # Preview walks the manager through privately and records nothing.
    first = await community.slash(ada, "onboarding preview")
    assert first.ephemeral and "Preview 1/3" in first.text
    second = await community.click(ada, first, "preview")
    assert "Preview 2/3" in second.text and "Rules: Be kind. No spam." in second.text
    pretend = await community.click(ada, second, "preview_agree")
    assert pretend.ephemeral and pretend.text.startswith("(Preview) Agreeing would give")
    third = await community.click(ada, second, "preview")
    assert "Preview 3/3" in third.text and "rules, after 24 hours" in third.text
    nothing = await community.slash(ada, "onboarding me")
    assert "You haven't been through onboarding here." in nothing.text
    assert len(told) == len([m for m in community.messages_in("mods") if "couldn't" in m.text])


async def test_a_join_storm_welcomes_everyone_exactly_once(community: Community) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    people = await storm(community, [f"guest{n}" for n in range(60)])
    welcomes = [m for m in community.messages_in("welcome") if "Welcome to" in m.text]
    assert len(welcomes) <= 60  # those that waited for the channel together share a post
    for person in people:
        assert len([m for m in welcomes if f"<@{person.id}>" in m.text]) == 1
        assert len(community.dms_of(person)) == 1
    funnel = await community.slash(community.people["ada"], "onboarding funnel", period="1w")
    assert "joined 60 · agreed to rules 0" in funnel.text


async def test_a_change_to_the_setup_reaches_the_very_next_newcomer(community: Community) -> None:
    """Joins share the community's onboarding setup for a few seconds (a join storm reads the
    rules, interests and buddy pool once, not once a join); a manager's or a buddy's change
    reaches the very next newcomer all the same."""
    ada, alice = community.people["ada"], community.people["alice"]
    await standard_setup(community, greeters=["ada"])

    async def arrives(name: str) -> str:
        newcomer = await community.member_joins(name)
        return "\n".join(community.readable(m.text) for m in community.dms_of(newcomer))

    nina = await arrives("nina")
    assert "Be kind. No spam." in nina and "your buddy" not in nina
    await community.slash(ada, "onboarding rules set", text="Be gentle.")
    await community.slash(alice, "onboarding buddy join")
    omar = await arrives("omar")
    assert "Be gentle." in omar and "Be kind" not in omar
    assert "Meet @alice, your buddy" in omar
    await community.slash(alice, "onboarding buddy leave")
    assert "your buddy" not in await arrives("pia")
