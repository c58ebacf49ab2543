"""The definitions behind every figure, pinned with plain values: days, periods, keys, links."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core import ChannelRef, CommunityRef, Member, MessagePosted, MessageRef, UserRef
from cogs.engagement._keys import link, message_key, position_at, sequence, target_key, time_of
from cogs.engagement._metrics import (
    Cohort,
    Graph,
    Period,
    date_of,
    day_number,
    day_of,
    median,
    ratio,
    retention,
    stickiness,
    week_of,
    week_start,
)
from cogs.engagement._periods import PeriodError, parse_period
from cogs.engagement._sentiment import sentiment
from cogs.engagement._text import is_question

MONDAY = 20458  # 2026-01-05


def test_days_and_weeks() -> None:
    assert day_of(datetime(2026, 1, 5, 23, 59, tzinfo=UTC)) == MONDAY
    assert day_number(86_399.9) == 0 and day_number(86_400) == 1 and day_number(-1) == -1
    assert date_of(MONDAY) == date(2026, 1, 5)
    assert date_of(0) == date(1970, 1, 1)
    assert week_of(MONDAY) == week_of(MONDAY + 6) == week_of(MONDAY - 1) + 1
    assert week_start(week_of(MONDAY + 3)) == MONDAY
    assert week_start(week_of(MONDAY - 1)) == MONDAY - 7


def test_periods_as_managers_write_them() -> None:
    assert parse_period(" 7D ", MONDAY) == Period(MONDAY - 6, MONDAY)
    assert parse_period("2w", MONDAY) == Period(MONDAY - 13, MONDAY)
    assert parse_period("1", MONDAY) == Period(MONDAY, MONDAY)
    assert parse_period("3660d", MONDAY) == Period(MONDAY - 3659, MONDAY)
    for bad in ("0d", "3661", "523w", "soon", "", "-3d", "2026-01-05..2026-01-04", "x..y"):
        with pytest.raises(PeriodError):
            parse_period(bad, MONDAY)
    dated = parse_period("2026-01-05..2026-01-11", 0)
    assert dated == Period(MONDAY, MONDAY + 6)
    assert parse_period("2026-01-05..2026-01-05", 0) == Period(MONDAY, MONDAY)
    assert dated is not None and dated.days == 7
    assert dated.before() == Period(MONDAY - 7, MONDAY - 1)
    assert dated.label() == "2026-01-05 – 2026-01-11"


def test_stickiness_ratio_and_median() -> None:
    week = Period(MONDAY, MONDAY + 6)
    assert stickiness({MONDAY: 4, MONDAY + 1: 2, MONDAY + 9: 50}, week, 3) == pytest.approx(
        6 / 7 / 3
    )
    assert stickiness({}, week, 0) is None
    assert stickiness({MONDAY: 1}, week, 1) == pytest.approx(1 / 7)
    assert ratio(1, 4) == 0.25 and ratio(3, 0) is None and ratio(0, 2) == 0.0
    assert median([5.0]) == 5.0
    assert median([1, 9]) == 5.0
    assert median([10, 1, 2, 3, 4]) == 3


def test_retention_cohorts_by_week_after_joining() -> None:
    members = [
        (MONDAY, [MONDAY]),  # gone the first day
        (MONDAY, [MONDAY + 7]),  # back in week 1
        (MONDAY + 6, [MONDAY + 13, MONDAY + 29]),  # Sunday joiner: week 1 and week 4
        (MONDAY + 7, [MONDAY + 40]),  # next week's cohort, back in week 4
        (MONDAY + 7, []),  # never active
    ]
    first, second = retention(members, MONDAY + 39)  # Friday 2026-02-13: Feb 9-15 still running
    assert (first.week, first.size) == (week_of(MONDAY), 3)
    assert first.retained == (2, 0, 1) and first.eligible == (3, 3, 3)
    assert first.rate(0) == pytest.approx(2 / 3) and first.rate(1) == 0.0
    assert (second.week, second.size) == (week_of(MONDAY) + 1, 2)
    assert second.retained == (0, 0, None) and second.eligible == (2, 2, 0)
    young = retention([(MONDAY, [MONDAY + 8]), (MONDAY + 5, [])], MONDAY + 13)[0]
    assert young.eligible == (2, 0, 0) and young.retained == (1, None, None)
    assert young.rate(0) == 0.5 and young.rate(2) is None
    assert Cohort(1, 1, (None, 0, 0), (0, 0, 0)).rate(1) is None
    assert retention([], MONDAY) == []


def test_the_reply_graph() -> None:
    graph = Graph.of([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "f"), ("g", "g")])
    assert graph.partners["c"] == frozenset({"a", "b", "d"})
    assert "g" not in graph.partners
    assert graph.connected() == ["c"] and graph.connected(2) == ["a", "b", "c"]
    assert graph.connected(1) == ["a", "b", "c", "d", "e", "f"]
    assert graph.groups() == [frozenset("abcd"), frozenset("ef")]
    assert graph.largest_group() == frozenset("abcd")
    assert graph.bridges() == ["c"]
    chain = Graph.of([("a", "b"), ("b", "c"), ("c", "d")])
    assert chain.bridges() == ["b", "c"]
    assert Graph.of([]).largest_group() == frozenset() and Graph.of([]).bridges() == []
    ties = Graph.of([("x", "y"), ("a", "b")])
    assert ties.groups() == [frozenset("ab"), frozenset("xy")]


def _posted(platform: str, message: str, reply_to: str | None, in_thread: bool) -> MessagePosted:
    here = CommunityRef(platform, "G")  # type: ignore[arg-type]
    channel = ChannelRef(here, "C9")
    return MessagePosted(
        community=here,
        at=datetime(2026, 1, 5, tzinfo=UTC),
        message=MessageRef(channel, message),
        author=Member(UserRef(here, "U1"), "ann"),
        text="hi",
        reply_to=MessageRef(channel, reply_to) if reply_to else None,
        in_thread=in_thread,
    )


def test_keys_links_and_positions() -> None:
    slack, discord = CommunityRef("slack", "T1"), CommunityRef("discord", "G1")
    assert message_key(MessageRef(ChannelRef(slack, "C1"), "1.5")) == "C1:1.5"
    assert message_key(MessageRef(ChannelRef(discord, "9"), "77")) == "77"
    assert target_key(_posted("slack", "2.0", "1.0", True)) == "C9:1.0"
    assert target_key(_posted("discord", "8", None, True)) == "C9"  # the thread's starter
    assert target_key(_posted("slack", "2.0", None, True)) is None
    assert target_key(_posted("discord", "8", None, False)) is None
    assert sequence("1712345678.0001") == 1712345678000100
    assert sequence("1712345678.1234567") == 1712345678123456
    assert sequence("42") == 42 and sequence("abc") == 0 and sequence("1.x") == 0
    assert link("discord", "G1", "C1", "9") == "https://discord.com/channels/G1/C1/9"
    assert link("slack", "T1", "C1", "1712345678.000100") == (
        "https://slack.com/archives/C1/p1712345678000100"
    )
    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert position_at("slack", at) == f"{at.timestamp():.6f}"
    assert time_of("slack", position_at("slack", at)) == at
    snowflake = position_at("discord", at)
    assert int(snowflake) & ((1 << 22) - 1) == 0
    assert time_of("discord", snowflake) == at
    assert time_of("discord", str(int(snowflake) + (1 << 22) - 1)) == at
    assert position_at("discord", datetime(2010, 1, 1, tzinfo=UTC)) == "0"
    assert position_at("slack", datetime(1960, 1, 1, tzinfo=UTC)) == "0.000000"


@pytest.mark.parametrize(
    "text",
    [
        "anyone here?",
        "How do I join",
        "what is this",
        "is it on today",
        "Thanks. Where are the docs",
        "see `x` — does it work?",
    ],
)
def test_what_counts_as_a_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "how nice!",
        "what a day.",
        "how about",
        "hello there",
        "<https://x.test/?a=1>",
        "https://x.test/?q",
        "```is it?```",
        "",
        "why tea, really",
        "it is raining",
    ],
)
def test_what_does_not(text: str) -> None:
    assert not is_question(text)


def test_sentiment_negation_boosters_and_scale() -> None:
    good = sentiment("good")
    assert 0 < good < 1
    assert sentiment("very good") > good
    assert sentiment("slightly good") < good
    assert sentiment("not good") == pytest.approx(-sentiment("good") * 0.74, abs=0.05)
    assert sentiment("not bad") > 0
    assert sentiment("very bad") < sentiment("bad") < 0
    assert sentiment("slightly bad") > sentiment("bad")
    assert sentiment("isn't it great") < 0  # n't words negate too
    assert sentiment("never ever at all good") > 0  # a negation reaches three words on
    assert sentiment("good good good good good good good good") < 1.0
    assert sentiment("") == 0.0 and sentiment("the table") == 0.0


def test_finer_rules_of_questions() -> None:
    assert is_question("`cmd` how do I run it")  # code is ignored, not read as words
    assert is_question("<@U1> how do I join")  # so are mentions and links
    assert is_question("a\n \nwho is here")  # a blank line between sentences
    assert not is_question("how do you do that!")
    assert not is_question("how do you know.")


def test_finer_rules_of_sentiment() -> None:
    assert sentiment("no good") < 0  # "no" is negative and negates what follows
    assert sentiment("mustn't good") < 0  # any n't word negates
    assert sentiment("not at all good") < 0  # three words on, still negated
    assert sentiment("very fine") > sentiment("fine") > sentiment("slightly fine") > 0
    assert sentiment("slightly good") > sentiment("fine")
    assert sentiment("good good") > sentiment("good")


def test_finer_rules_of_periods_groups_and_bridges() -> None:
    with pytest.raises(PeriodError, match="I don't understand the period `7x`"):
        parse_period("7x", MONDAY)
    week = Period(MONDAY, MONDAY + 6)
    daily = {MONDAY - 1: 100, MONDAY + 6: 7, MONDAY + 7: 100}
    assert stickiness(daily, week, 1) == pytest.approx(1.0)
    assert Graph.of([("a", "b"), ("x", "y"), ("y", "z")]).groups() == [
        frozenset("xyz"),
        frozenset("ab"),
    ]
    assert Graph.of([("a", "c"), ("d", "e"), ("e", "f")]).bridges() == ["e"]


def test_a_single_mild_word_scores_by_the_normalisation() -> None:
    assert sentiment("abilities") == pytest.approx(1 / 4)  # valence 1.0: 1 / sqrt(1 + 15)
