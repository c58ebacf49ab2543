"""What managers read in /introductions stats: met rate per round, pairs who kept talking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cogs.introductions._rounds import Answer
from cogs.introductions._stats import PastRound, kept_talking, round_lines

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
WEEK = timedelta(weeks=1)
FIRST = PastRound(
    T0,
    [("ana", "bo"), ("cy", "di", "ed")],
    {"ana": Answer.MET, "bo": Answer.NOT_YET, "cy": Answer.IGNORED},
)
SECOND = PastRound(T0 + WEEK, [("ana", "cy"), ("bo", "di")], {"di": Answer.SKIP})


def test_each_round_shows_people_groups_and_the_share_that_met() -> None:
    first, second = round_lines([SECOND, FIRST], since=T0)
    assert (first.people, first.groups, first.met, first.met_rate) == (5, 2, 1, 0.5)
    assert (second.people, second.groups, second.met, second.met_rate) == (4, 2, 0, 0.0)


def test_the_period_leaves_older_rounds_out() -> None:
    assert [line.started_at for line in round_lines([FIRST, SECOND], since=T0 + WEEK)] == [
        T0 + WEEK
    ]


def test_only_pairs_who_talked_after_their_introduction_count_once() -> None:
    talks = [
        ("bo", "ana", T0 + timedelta(days=2)),  # after: counts
        ("ana", "bo", T0 + timedelta(days=3)),  # the same pair again
        ("cy", "ana", T0 - timedelta(days=1)),  # before they were introduced
        ("ed", "bo", T0 + timedelta(days=2)),  # never introduced
        ("di", "ed", T0 + timedelta(days=9)),  # met in a trio
    ]
    assert kept_talking([FIRST, SECOND], talks) == 2
