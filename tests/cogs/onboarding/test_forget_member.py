"""A member asks Steward to forget them: onboarding deletes their record and stops nudging."""

from __future__ import annotations

from bot.core import Feature
from bot.features import load
from cogs.onboarding.feature import Onboarding
from sandbox.scenario import Community
from tests.cogs.onboarding.world import standard_setup


async def test_forget_me_deletes_the_onboarding_record_and_stops_the_nudges(
    community: Community,
) -> None:
    await standard_setup(community)
    nina = await community.member_joins("nina")
    dms = len(community.dms_of(nina))
    mine = await community.slash(nina, "onboarding me")
    assert "rules: not yet" in mine.text
    done = await community.slash(nina, "steward forget me")
    assert done.ephemeral and done.text.startswith("Done: every feature deletes")
    gone = await community.slash(nina, "onboarding me")
    assert "You haven't been through onboarding here." in gone.text
    await community.advance(days=8)  # every nudge and the silent-member alert would be due
    assert len(community.dms_of(nina)) == dms
    assert not [m for m in community.messages_in("mods") if "hasn't said anything" in m.text]


async def test_only_an_admin_may_make_steward_forget_someone_else(community: Community) -> None:
    await standard_setup(community)
    nina = await community.member_joins("nina")
    bob, ada = community.people["bob"], community.people["ada"]
    refused = await community.slash(bob, "steward forget member", member=nina)
    assert refused.text == "Sorry, you need to be an admin to use /steward forget member."
    assert "rules: not yet" in (await community.slash(nina, "onboarding me")).text
    done = await community.slash(ada, "steward forget member", member=nina)
    assert (
        community.readable(done.text) == "Done: every feature deletes what it stored about @nina."
    )
    assert "You haven't" in (await community.slash(nina, "onboarding me")).text


def test_every_shipped_feature_says_how_it_forgets_a_member() -> None:
    features = load(["all"])
    assert any(isinstance(f, Onboarding) for f in features)
    for feature in features:
        assert type(feature).forget_member is not Feature.forget_member, feature.name
