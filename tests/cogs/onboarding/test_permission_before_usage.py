"""A member who types a moderator command wrongly is told it isn't theirs, not how to type it."""

from __future__ import annotations

from sandbox.scenario import Community


async def test_a_member_hears_the_command_is_not_theirs_before_its_usage(
    community: Community,
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    refused = await community.slash(bob, "onboarding funnel", period="soon")
    assert refused.ephemeral
    assert refused.text == "Sorry, you need to be a moderator to use /onboarding funnel."
    explained = await community.slash(ada, "onboarding funnel", period="soon")
    assert explained.ephemeral and "`soon` is not a duration" in explained.text
