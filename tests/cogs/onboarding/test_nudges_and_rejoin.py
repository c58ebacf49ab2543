"""Nudges climb the ladder once each, wait out quiet hours, stop when done, and survive a leave."""

from __future__ import annotations

from datetime import timedelta

from bot.builtin import Steward
from cogs.onboarding import Onboarding
from sandbox.scenario import Community, start_steward, stop_steward
from tests.cogs.onboarding.world import (
    comes_back,
    leaves,
    option_values,
    standard_setup,
)


def _said(community: Community, person_dms: list[str], words: str) -> int:
    return sum(words in text for text in person_dms)


async def test_ladder_fires_once_per_step_in_waking_hours_and_a_returner_keeps_progress(
    community: Community,
) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    await standard_setup(community, greeters=["alice"])
    await community.slash(ada, "onboarding interest add", name="Music", emoji="🎵")
    # Quiet from 22:00 to 08:00 UTC; the rules reminder (14h after a 09:00 join) lands at 23:00.
    await community.configure("steward", quiet_start="22:00", quiet_end="08:00")
    await community.configure("onboarding", nudge_rules_after="14h")

    pia = await community.member_joins("pia")
    quinn = await community.member_joins("quinn")
    started = await community.click(quinn, _welcome_of(community, "quinn"), "start")
    await community.click(quinn, started, "agree")

    def dms(name: str) -> list[str]:
        return [m.text for m in community.dms_of(community.people[name])]

    await community.advance(hours=14)  # 23:00: quiet, nothing yet
    assert _said(community, dms("pia"), "gentle reminder") == 0
    await community.advance(hours=9, minutes=1)  # 08:01: the rules reminder arrives
    assert _said(community, dms("pia"), "gentle reminder") == 1
    assert _said(community, dms("quinn"), "gentle reminder") == 0  # she had agreed

    started = await community.click(pia, _welcome_of(community, "pia"), "start")
    await community.click(pia, started, "agree")
    await community.advance(days=1, hours=1)  # 2 days after joining: interests, for both
    assert _said(community, dms("pia"), "haven't picked any interests") == 1
    assert _said(community, dms("quinn"), "haven't picked any interests") == 1
    picked = await community.slash(pia, "onboarding interests")
    await community.select(pia, picked, "pick", option_values(picked))

    # Pia leaves and comes back ten days later: welcomed back, progress kept.
    await leaves(community, pia)
    await community.advance(days=10)
    await comes_back(community, pia)
    back = [m for m in community.messages_in("welcome") if "Welcome back" in m.text]
    assert len(back) == 1 and "@pia" in community.readable(back[0].text)
    mine = await community.slash(pia, "onboarding me")
    assert "rules: agreed" in mine.text and "interests: 🎵 Music" in mine.text
    assert "came back" in mine.text

    await community.advance(days=8)
    # Done steps and sent reminders never come again; the intro reminder came once.
    assert _said(community, dms("pia"), "gentle reminder") == 1
    assert _said(community, dms("pia"), "haven't picked any interests") == 1
    assert _said(community, dms("pia"), "Introduce yourself") == 1
    # Silent members are the greeters' business: one alert each, pinging the greeter role.
    alerts = [m for m in community.pings_of(alice) if "hasn't said anything yet" in m.text]
    assert sorted(community.readable(m.text).split()[1] for m in alerts) == ["@pia", "@quinn"]
    await community.advance(days=5)
    assert len([m for m in community.pings_of(alice) if "hasn't said anything" in m.text]) == 2

    shown = await community.slash(ada, "onboarding status", member=quinn)
    assert "nudges sent: interests, intro, silent" in shown.text

    # A newcomer Steward can't DM is welcomed in the channel, and reminded there.
    rex = await community.member_joins("rex", dms_open=False)
    assert community.dms_of(rex) == []
    await community.advance(days=1)
    reminder = [m for m in community.messages_in("welcome") if "gentle reminder" in m.text]
    assert len(reminder) == 1 and "@rex" in community.readable(reminder[0].text)
    assert any("gentle reminder" in m.text for m in community.pings_of(rex))
    assert community.offers(reminder[0], "start")


async def test_a_member_whose_dms_close_is_reminded_in_the_welcome_channel(
    community: Community,
) -> None:
    await standard_setup(community)
    sam = await community.member_joins("sam")
    assert len(community.dms_of(sam)) == 1  # the welcome arrived by DM
    community.close_dms(sam)
    await community.advance(hours=24, minutes=1)
    assert len(community.dms_of(sam)) == 1
    [reminder] = [m for m in community.messages_in("welcome") if "gentle reminder" in m.text]
    assert community.readable(reminder.text).startswith("@sam A gentle reminder")
    started = await community.click(sam, reminder, "start")
    agreed = await community.click(sam, started, "agree")
    assert agreed.ephemeral and "Thanks for agreeing to the rules" in agreed.text


async def test_reminders_that_pile_up_come_as_one_short_message_per_member(
    community: Community,
) -> None:
    ada = community.people["ada"]
    await standard_setup(community)
    await community.slash(ada, "onboarding interest add", name="Music", emoji="🎵")
    tess = await community.member_joins("tess")
    uma = await community.member_joins("uma")
    welcomed = len(community.dms_of(tess))

    # Four days pass at once: the rules (1 day), interests (2) and intro (3) reminders are all
    # due, and tess gets one message naming what is left, not the welcome three times.
    await community.advance(days=4)
    [reminder] = community.dms_of(tess)[welcomed:]
    text = community.readable(reminder.text)
    assert text.startswith("A gentle reminder: 3 steps to go"), text
    assert "read the rules" in text and "pick your interests" in text
    assert "introduce yourself in #intros" in text
    assert "Be kind" not in text and not option_values(reminder)  # no rules, no menu again
    started = await community.click(tess, reminder, "start")  # one button opens the rest
    assert started.ephemeral and community.offers(started, "agree")
    # uma's piled up too, and went to her alone, in one message of her own.
    assert len(community.dms_of(uma)) == welcomed + 1
    shown = await community.slash(ada, "onboarding status", member=tess)
    assert "nudges sent: interests, intro, rules" in shown.text

    # Reminders that came due while Steward was down arrive as one message too.
    vic = await community.member_joins("vic")
    await stop_steward(community)
    community.clock.advance(timedelta(days=5))
    restarted = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.advance(minutes=1)
        [late] = community.dms_of(vic)[welcomed:]
        assert community.readable(late.text).startswith("A gentle reminder: 3 steps to go")
        await community.advance(days=3)  # and nothing comes again
        assert len(community.dms_of(tess)) == len(community.dms_of(vic)) == welcomed + 1
    finally:
        await restarted.stop()  # before the database goes away with the test


def _welcome_of(community: Community, name: str) -> object:
    return next(
        m
        for m in community.messages_in("welcome")
        if f"@{name}" in community.readable(m.text) and "Welcome" in m.text
    )
