"""The round policy with plain values: cadence, next round, check-ins and the ghost rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import UserError
from cogs.introductions._rounds import (
    Answer,
    Cadence,
    Schedule,
    check_ins,
    in_pool,
    is_ghost,
    next_round,
    parse_cadence,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKLY = Schedule(PARIS)  # Mondays at 10:00 Paris time


def utc(*args: int) -> datetime:
    """A UTC moment."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_a_weekly_round_starts_next_monday_at_ten_local_time() -> None:
    # Wednesday 7 January 2026; Paris is UTC+1 in winter.
    assert next_round(utc(2026, 1, 7, 12), WEEKLY) == utc(2026, 1, 12, 9)
    # Exactly at the start: the next one is a week later.
    assert next_round(utc(2026, 1, 12, 9), WEEKLY) == utc(2026, 1, 19, 9)


def test_the_local_hour_holds_across_the_change_to_summer_time() -> None:
    # Summer time starts on 29 March 2026: ten o'clock is then 08:00 UTC.
    assert next_round(utc(2026, 3, 24), WEEKLY) == utc(2026, 3, 30, 8)


def test_every_two_weeks_counts_from_the_anchor_week() -> None:
    every_two = Schedule(PARIS, Cadence((0,), 2), anchor=date(2026, 1, 5))
    assert next_round(utc(2026, 1, 6), every_two) == utc(2026, 1, 19, 9)
    assert next_round(utc(2026, 1, 19, 10), every_two) == utc(2026, 2, 2, 9)


def test_several_rounds_a_week_use_each_chosen_day() -> None:
    twice = Schedule(ZoneInfo("UTC"), parse_cadence("mon,thu"), at=time(17, 30))
    assert next_round(utc(2026, 1, 5, 18), twice) == utc(2026, 1, 8, 17, 30)
    assert next_round(utc(2026, 1, 8, 18), twice) == utc(2026, 1, 12, 17, 30)


def test_a_round_set_inside_quiet_hours_waits_for_them_to_end() -> None:
    early = Schedule(PARIS, at=time(7, 0), quiet_start=time(22, 0), quiet_end=time(8, 0))
    assert next_round(utc(2026, 1, 7), early) == utc(2026, 1, 12, 7)  # 08:00 in Paris


def test_check_ins_fall_midway_and_near_the_end_outside_quiet_hours() -> None:
    start, end = utc(2026, 1, 12, 9), utc(2026, 1, 19, 9)
    assert check_ins(start, end, WEEKLY) == (utc(2026, 1, 15, 21), utc(2026, 1, 18, 7, 48))
    # Midway is 22:00 in Paris: with quiet nights it waits until 08:00.
    nights = Schedule(PARIS, quiet_start=time(22, 0), quiet_end=time(8, 0))
    assert check_ins(start, end, nights) == (utc(2026, 1, 16, 7), utc(2026, 1, 18, 7, 48))
    # A check-in pushed past the end of a short round comes just before it.
    short = check_ins(utc(2026, 1, 12, 20), utc(2026, 1, 13, 6), nights)
    assert short == (utc(2026, 1, 13, 5, 59), utc(2026, 1, 13, 5, 59))


@pytest.mark.parametrize(
    ("text", "cadence"),
    [
        ("weekly", Cadence((0,), 1)),
        ("every 2 weeks", Cadence((0,), 2)),
        ("Every 4 weeks on Friday", Cadence((4,), 4)),
        ("mon, thu", Cadence((0, 3), 1)),
        ("weekly on wed", Cadence((2,), 1)),
    ],
)
def test_managers_write_the_cadence_in_words(text: str, cadence: Cadence) -> None:
    assert parse_cadence(text) == cadence
    assert parse_cadence(cadence.describe()) == cadence


@pytest.mark.parametrize("text", ["", "every 3 weeks", "fortnightly", "mon,funday", "daily!"])
def test_an_unreadable_cadence_is_explained(text: str) -> None:
    with pytest.raises(UserError, match="every 2 weeks"):
        parse_cadence(text)


def test_spaces_between_words_are_one_and_a_long_cadence_is_refused_unread() -> None:
    assert parse_cadence("every  2\tweeks   on  tue") == Cadence((1,), 2)
    # Runs of spaces once made the pattern backtrack for seconds, the whole bot waiting: they
    # are one space now, and text longer than any cadence is not matched at all.
    with pytest.raises(UserError, match="I could not read that cadence"):
        parse_cadence("every 2 weeks" + " " * 5000 + "!")
    with pytest.raises(UserError, match="too long for a cadence"):
        parse_cadence("every 2 weeks on" + " mon" * 30)


def test_three_ignored_rounds_in_a_row_make_a_ghost() -> None:
    ignored = Answer.IGNORED
    assert is_ghost([Answer.MET, ignored, ignored, ignored])
    assert not is_ghost([ignored, ignored, Answer.SKIP, ignored, ignored])
    assert not is_ghost([ignored, ignored])
    assert not is_ghost([ignored, ignored, ignored, Answer.NOT_YET])


def test_a_paused_member_returns_in_the_round_they_chose() -> None:
    assert not in_pool(True, paused_until=5, round_number=4)
    assert in_pool(True, paused_until=5, round_number=5)
    assert not in_pool(False, paused_until=None, round_number=5)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1)),
    st.sets(st.integers(0, 6), min_size=1),
    st.sampled_from([1, 2, 4]),
    st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]),
    st.times(),
)
def test_the_next_round_is_after_now_on_a_chosen_day_at_the_chosen_hour(
    now: datetime, days: set[int], every: int, zone: str, at: time
) -> None:
    tz = ZoneInfo(zone)
    schedule = Schedule(tz, Cadence(tuple(sorted(days)), every), at=at.replace(microsecond=0))
    after = now.replace(tzinfo=UTC)
    start = next_round(after, schedule)
    local = start.astimezone(tz)
    assert after < start <= after + timedelta(weeks=every, hours=2)
    assert local.weekday() in days
    weeks = (local.date() - timedelta(days=local.weekday()) - schedule.anchor).days // 7
    assert weeks % every == 0
    # The chosen hour, unless the day has no such hour (the change to summer time).
    assert (
        local.time() == schedule.at or local.utcoffset() != (local - timedelta(hours=3)).utcoffset()
    )
