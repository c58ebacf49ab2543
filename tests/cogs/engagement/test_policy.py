"""Pure definitions: questions, sentiment, periods, retention and the reply graph."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cogs.engagement._keys import sequence
from cogs.engagement._metrics import Graph, median, parse_period, retention, week_of
from cogs.engagement._text import is_question, sentiment


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


def test_periods() -> None:
    assert parse_period("7d", 100) is not None and parse_period("7d", 100).first == 94  # type: ignore[union-attr]
    assert parse_period("2w", 100).days == 14  # type: ignore[union-attr]
    assert parse_period("soon", 100) is None


def test_slack_and_discord_ids_order_within_a_channel() -> None:
    assert sequence("1712345678.000100") < sequence("1712345678.000200") < sequence("1712345679.0")
    assert sequence("1234567890123456789") > sequence("1234567890123456788")


def test_retention_counts_members_active_on_or_after_day_n() -> None:
    monday = 20454  # 2026-01-05
    cohorts = retention(
        [(monday, monday), (monday, monday + 1), (monday + 2, monday + 40)], monday + 35
    )
    assert len(cohorts) == 1 and cohorts[0].size == 3 and cohorts[0].week == week_of(monday)
    assert cohorts[0].retained == (2, 1, 1)
    assert cohorts[0].eligible == (3, 3, 3)
    early = retention([(monday, None)], monday + 3)[0]
    assert early.retained == (0, None, None) and early.rate(1) is None


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
