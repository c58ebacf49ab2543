"""/steward help for a manager: onboarding's commands for everyone apart from the staff's."""

from __future__ import annotations

from sandbox.scenario import Community


async def test_admin_help_keeps_staff_commands_apart_and_whole(community: Community) -> None:
    shown = await community.slash(community.people["ada"], "steward help", feature="onboarding")
    assert shown.ephemeral
    text = shown.text
    assert "(more)" not in text and "(continued)" not in text
    everyone, staff = text.index("onboarding: everyone"), text.index("onboarding: staff")
    assert everyone < text.index("/onboarding buddy join") < staff
    assert staff < text.index("/onboarding welcome set")
    member = await community.slash(community.people["alice"], "steward help", feature="onboarding")
    assert "onboarding: staff" not in member.text and "/onboarding welcome set" not in member.text
