"""The weekly duty schedule: whoever is on duty by schedule is pinged by a new report, in the
community's time zone (a zone without daylight saving, and one with it)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cogs.moderation._models import ModerationDutySlot
from cogs.moderation._rota import covers
from sandbox.scenario import Community, Person


def _pinged(community: Community, person: Person) -> int:
    return len([p for p in community.pings_of(person) if "reported" in p.text])


async def test_a_report_pings_whoever_the_schedule_has_on_duty_in_community_time(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    # The clock starts on Monday 2026-01-05 09:00 UTC: 14:30 in Kolkata (UTC+5:30, no DST).
    await community.configure("steward", timezone="Asia/Kolkata")
    added = await community.slash(
        alice, "moderation schedule add", day="monday", hours="14:00-15:00"
    )
    assert community.readable(added.text) == (
        "@alice is on duty every monday 14:00-15:00, Asia/Kolkata time."
    )
    late = await community.slash(
        ada, "moderation schedule add", day="monday", hours="23:00-01:00", member=alice
    )
    assert community.readable(late.text) == (
        "@alice is on duty every monday 23:00-01:00 (to the next day), Asia/Kolkata time."
    )
    refused = await community.slash(
        bob, "moderation schedule add", day="monday", hours="09:00-17:00"
    )
    assert refused.text.startswith("Sorry, you need to be")
    bad = await community.slash(alice, "moderation schedule add", day="monday", hours="9 to 5")
    assert bad.text == "Write the hours like `09:00-17:00` (24-hour clock, local time)."
    listed = await community.slash(alice, "moderation schedule list")
    assert community.readable(listed.text).splitlines() == [
        "Duty schedule (Asia/Kolkata time):",
        "@alice: monday 14:00-15:00",
        "@alice: monday 23:00-01:00 (to the next day)",
    ]

    await community.slash(bob, "moderation report", member=carl, what="spam")  # 14:30
    assert _pinged(community, alice) == 1
    await community.advance(minutes=31)  # 15:01 in Kolkata: off duty
    await community.slash(bob, "moderation report", member=carl, what="more spam")
    assert _pinged(community, alice) == 1
    await community.advance(hours=9)  # Tuesday 00:01 in Kolkata: the late range
    await community.slash(bob, "moderation report", member=carl, what="night spam")
    assert _pinged(community, alice) == 2
    await community.advance(hours=1)  # 01:01: over
    await community.slash(bob, "moderation report", member=carl, what="still spam")
    assert _pinged(community, alice) == 2

    # The community moves to Paris (UTC+1 in winter): Monday 14:00-15:00 there is 13:00 UTC.
    await community.configure("steward", timezone="Europe/Paris")
    await community.advance(days=6, hours=18)  # Monday 2026-01-12 13:31 UTC: 14:31 in Paris
    await community.slash(bob, "moderation report", member=carl, what="monday spam")
    assert _pinged(community, alice) == 3
    removed = await community.slash(
        alice, "moderation schedule remove", day="monday", hours="14:00-15:00"
    )
    assert community.readable(removed.text) == (
        "Removed monday 14:00-15:00 from @alice's schedule."
    )
    await community.slash(bob, "moderation report", member=carl, what="unpinged spam")
    assert _pinged(community, alice) == 3


def _slot(weekday: int, start: str, end: str) -> ModerationDutySlot:
    h1, m1 = (int(x) for x in start.split(":"))
    h2, m2 = (int(x) for x in end.split(":"))
    return ModerationDutySlot(
        weekday=weekday, start_minute=h1 * 60 + m1, end_minute=(h2 * 60 + m2) % 1440
    )


def test_a_range_follows_local_time_across_a_daylight_saving_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    sunday_morning = _slot(6, "09:00", "10:00")
    # 2026-03-29 is the Sunday clocks go forward in Paris (UTC+1 -> UTC+2) at 02:00.
    before = datetime(2026, 3, 22, 8, 30, tzinfo=UTC).astimezone(paris)  # 09:30 local
    after = datetime(2026, 3, 29, 7, 30, tzinfo=UTC).astimezone(paris)  # 09:30 local
    one_hour_off = datetime(2026, 3, 29, 8, 30, tzinfo=UTC).astimezone(paris)  # 10:30 local
    assert covers(sunday_morning, before) and covers(sunday_morning, after)
    assert not covers(sunday_morning, one_hour_off)
    night = _slot(6, "22:00", "02:00")  # Sunday night into Monday
    assert covers(night, datetime(2026, 3, 30, 0, 30, tzinfo=paris))
    assert not covers(night, datetime(2026, 3, 30, 2, 0, tzinfo=paris))
    assert covers(_slot(0, "00:00", "24:00"), datetime(2026, 3, 30, 23, 59, tzinfo=paris))
