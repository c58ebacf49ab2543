"""Pure definitions: questions, sentiment, periods, retention and the reply graph."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.engagement._keys import sequence
from cogs.engagement._metrics import Graph, Period, median, retention, week_of
from cogs.engagement._periods import PeriodError, parse_period
from cogs.engagement._sentiment import sentiment
from cogs.engagement._text import is_question


def test_questions_are_recognised_and_links_are_not() -> None:
    assert is_question("how do I reset my password")
    assert is_question("Great talk. Any slides?")
    assert not is_question("see https://example.com/?page=2")
    assert not is_question("I know how it works.")
    assert not is_question("`a ? b : c` is a ternary")


def test_sentiment_follows_vader_in_sign() -> None:
    assert sentiment("I love this community") > 0.5
    assert sentiment("this is not good") < 0
    assert sentiment("the build is broken and I hate it") < -0.5
    assert sentiment("the meeting is at noon") == 0.0


@given(st.text(max_size=200))
def test_sentiment_stays_in_range(text: str) -> None:
    assert -1.0 <= sentiment(text) <= 1.0


def test_periods_as_managers_type_them() -> None:
    today = 20458 + 26  # Saturday 2026-01-31
    assert parse_period("7d", today).first == today - 6
    assert parse_period("2w", today).days == 14
    assert parse_period("30", today).days == 30
    assert parse_period("3 months", today).first == 20454 - 61  # from 2025-11-01
    assert parse_period("1 month", today).first == 20454  # from 2026-01-01
    assert parse_period("1y", today).days == 365
    assert parse_period(" 2026-01-05..2026-01-11 ", today) == Period(20458, 20464)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("soon", "I don't understand the period `soon`"),
        ("0d", "at least one day"),
        ("99999d", "longer than 10 years: give at most 3660 days"),
        ("9" * 5000 + "d", "longer than 10 years"),  # found by bench.fuzz: int() refused it
        ("2026-01-31..2026-01-01", "ends (2026-01-01) before it starts (2026-01-31)"),
        ("2026-13-01..2026-01-01", "is not two dates"),
    ],
)
def test_each_bad_period_gets_its_own_reason(typed: str, said: str) -> None:
    with pytest.raises(PeriodError, match=re.escape(said)):
        parse_period(typed, 20458)


def test_slack_and_discord_ids_order_within_a_channel() -> None:
    assert sequence("1712345678.000100") < sequence("1712345678.000200") < sequence("1712345679.0")
    assert sequence("1234567890123456789") > sequence("1234567890123456788")


def test_retention_counts_members_active_in_week_n_after_their_join_week() -> None:
    monday = 20458  # 2026-01-05
    cohorts = retention(
        [
            (monday, [monday, monday + 8]),  # back in week 1
            (monday, [monday + 15]),  # back in week 2
            (monday + 2, [monday + 30, monday + 40]),  # week 4; Feb 14 is after the report
        ],
        monday + 35,  # Monday 2026-02-09: the 4th week after (Feb 2-8) is over
    )
    assert len(cohorts) == 1 and cohorts[0].size == 3 and cohorts[0].week == week_of(monday)
    assert cohorts[0].retained == (1, 1, 1)
    assert cohorts[0].eligible == (3, 3, 3)
    early = retention([(monday, [monday + 8])], monday + 10)[0]  # week 1 still running
    assert early.retained == (None, None, None) and early.rate(0) is None
    assert retention([(monday + 11, [])], monday + 10) == []  # joined after the report


def test_median() -> None:
    assert median([]) is None
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2.5


def _components(partners: dict[str, frozenset[str]], without: str | None) -> int:
    seen: set[str] = set()
    count = 0
    for start in partners:
        if start == without or start in seen:
            continue
        count += 1
        stack = [start]
        seen.add(start)
        while stack:
            for other in partners[stack.pop()]:
                if other != without and other not in seen:
                    seen.add(other)
                    stack.append(other)
    return count


names = st.sampled_from("abcdefgh")


@given(st.lists(st.tuples(names, names), max_size=20))
def test_bridges_are_exactly_the_members_whose_absence_splits_a_group(
    edges: list[tuple[str, str]],
) -> None:
    graph = Graph.of(edges)
    base = _components(graph.partners, None)
    expected = [
        m
        for m in sorted(graph.partners)
        if _components(graph.partners, m) > base - (1 if not graph.partners[m] else 0)
    ]
    assert graph.bridges() == expected
    groups = graph.groups()
    assert sum(len(g) for g in groups) == len(graph.partners)
    assert graph.largest_group() == (groups[0] if groups else frozenset())


def test_a_star_has_its_centre_as_bridge_and_partners_counted() -> None:
    graph = Graph.of([("a", "b"), ("c", "a"), ("a", "d"), ("b", "b")])
    assert graph.connected(3) == ["a"]
    assert graph.bridges() == ["a"]
    assert len(graph.largest_group()) == 4
