"""Managers list and remove interests; a join the platform delivers twice is welcomed once."""

from __future__ import annotations

from typing import Any

from sandbox.scenario import Community, DiscordCommunity, Person, SlackCommunity
from tests.cogs.onboarding.world import grantable, option_values, standard_setup


async def test_interests_are_listed_and_removed(community: Community) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    empty = await community.slash(ada, "onboarding interest list")
    assert empty.ephemeral and "No interests yet" in empty.text
    await community.slash(ada, "onboarding interest add", name="Chess", emoji="♟")
    role, channel = grantable(community, "go")
    await community.slash(ada, "onboarding interest add", name="Go", opens=role or channel)

    listed = await community.slash(ada, "onboarding interest list")
    lines = community.readable(listed.text).splitlines()
    assert listed.ephemeral and lines[0] == "Interests"
    assert "♟ Chess: nothing granted" in lines
    where = "role @go" if role else "channel #go"
    granted = f"Go: {where}"  # the role's or channel's name, as the client shows the mention
    assert granted in lines

    removed = await community.slash(ada, "onboarding interest remove", name="Chess")
    assert removed.text == "Interest Chess removed."
    after = community.readable((await community.slash(ada, "onboarding interest list")).text)
    assert "Chess" not in after and granted in after.splitlines()
    offered = await community.slash(alice, "onboarding interests")
    assert len(option_values(offered)) == 1 and "Chess" not in offered.text
    again = await community.slash(ada, "onboarding interest remove", name="Chess")
    assert again.ephemeral and again.text == "There is no interest called `Chess`."
    refused = await community.slash(alice, "onboarding interest list")
    assert refused.ephemeral and "admin" in refused.text


async def _deliver_join_again(community: Community, person: Person) -> None:
    """The platform reports the same join a second time, as a new delivery Steward can't match
    to the first by its id (another process took the first, or Steward restarted between)."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        # discord.py itself drops a GUILD_MEMBER_ADD for a member it has cached; Slack has no
        # such layer, so there Steward's own guard is what keeps the welcome single.
        await fake.member_joins(community.guild, person.account)
    else:
        assert isinstance(community, SlackCommunity)
        first = next(
            d.payload["event"]
            for d in fake.deliveries
            if d.kind == "event"
            and d.payload["event"]["type"] == "team_join"
            and d.payload["event"]["user"]["id"] == person.id
        )
        await fake.deliver_event(fake.world.users[person.id].team_id, dict(first))
    await community.settle()


async def test_a_join_delivered_twice_is_welcomed_once(community: Community) -> None:
    await standard_setup(community)
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    await _deliver_join_again(community, nina)
    welcomes = [m for m in community.messages_in("welcome") if "Welcome to" in m.text]
    assert len(welcomes) == 1
    assert len([m for m in community.dms_of(nina) if "Welcome" in m.text]) == 1
    funnel = await community.slash(community.people["ada"], "onboarding funnel", period="1w")
    assert "joined 1 ·" in funnel.text


async def test_a_join_whose_welcome_failed_half_way_is_finished_once(community: Community) -> None:
    """Slack answers 503 twice while the newcomer is brought into the welcome channel (after
    their row is saved): the listener is tried again and finishes the welcome, once."""
    if not isinstance(community, SlackCommunity):
        return  # Discord has no channel invitation step to fail
    await standard_setup(community)
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    fake: Any = community.fake  # type: ignore[attr-defined]
    fake.faults.server_error(times=2, status=503, method="conversations.invite")
    nina = await community.member_joins("nina")
    await community.settle()
    welcomes = [m for m in community.messages_in("welcome") if "Welcome to" in m.text]
    assert len(welcomes) == 1
    assert len([m for m in community.dms_of(nina) if "Welcome" in m.text]) == 1
    kept = await community.slash(community.people["ada"], "steward failures show")
    assert kept.text == "Nothing is waiting: every event here was handled."
