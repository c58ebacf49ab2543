"""Text as managers type it, to typed values: durations, times, yes/no, numbers, mentions."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import UserError
from bot.core.ids import ChannelRef, CommunityRef, RoleRef, UserRef
from bot.core.parsing import (
    digits_value,
    format_duration,
    parse_bool,
    parse_channel,
    parse_duration,
    parse_float,
    parse_int,
    parse_role,
    parse_time,
    parse_user,
)

HERE = CommunityRef("slack", "T1")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("2h30m", 9000),
        ("3d", 259200),
        ("1w", 604800),
        (" 1W 2D ", 777600),
        ("1h 1m 1s", 3661),
        ("1s", 1),
        ("3650d", 3650 * 86400),
    ],
)
def test_durations_people_type(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give a duration such as `10m`, `2h` or `3d`."),
        ("  ", "Give a duration such as `10m`, `2h` or `3d`."),
        ("soon", "`soon` is not a duration; use a form like `10m`, `2h` or `3d`."),
        ("10", "`10` is not a duration; use a form like `10m`, `2h` or `3d`."),
        ("x10m", "`x10m` is not a duration; use a form like `10m`, `2h` or `3d`."),
        ("10mx", "`10mx` is not a duration; use a form like `10m`, `2h` or `3d`."),
        ("0m", "`0m` is no time at all."),
        ("3651d", "That duration is too long; keep it under ten years."),
        ("1" * 5000 + "s", "That duration is too long; keep it under ten years."),  # bench.fuzz
        ("x" * 60, f"`{'x' * 40}` is not a duration; use a form like `10m`, `2h` or `3d`."),
    ],
)
def test_what_is_not_a_duration_is_named(text: str, message: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_duration(text)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (-5, "0s"), (1, "1s"), (60, "1m"), (93784, "1d2h3m4s"), (604800 + 3600, "1w1h")],
)
def test_durations_are_shown_in_the_short_form(seconds: int, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_a_shown_duration_reads_back_the_same(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("22:00", time(22, 0)),
        ("7:30", time(7, 30)),
        ("0800", time(8, 0)),
        (" 23:59 ", time(23, 59)),
    ],
)
def test_times_of_day(text: str, value: time) -> None:
    assert parse_time(text) == value


@pytest.mark.parametrize("text", ["24:00", "12:60", "noon", "1:5", "123:00", ""])
def test_what_is_not_a_time_is_named(text: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_time(text)
    assert refused.value.message == (
        f"`{text.strip()}` is not a time of day; use a form like `22:00`."
    )


@pytest.mark.parametrize("word", ["on", "Yes", " TRUE ", "y", "1", "enable", "enabled"])
def test_yes_words(word: str) -> None:
    assert parse_bool(word) is True


@pytest.mark.parametrize("word", ["off", "No", "false", "n", "0", "disable", "disabled"])
def test_no_words(word: str) -> None:
    assert parse_bool(word) is False


def test_numbers_and_what_is_not_one() -> None:
    assert parse_int(" 42 ") == 42
    assert parse_float(" 2.5 ") == 2.5
    for parse, word in ((parse_bool, "yes/no value; use `on` or `off`"), (parse_int, "whole")):
        with pytest.raises(UserError) as refused:
            parse(" maybe ")  # type: ignore[operator]
        assert refused.value.message.startswith("`maybe` is not a ")
        assert word in refused.value.message
    with pytest.raises(UserError) as refused:
        parse_float("many")
    assert refused.value.message == "`many` is not a number."
    with pytest.raises(UserError) as refused:
        parse_int("2.5")
    assert refused.value.message == "`2.5` is not a whole number."


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("<@123>", "123"),
        ("<@!123>", "123"),
        ("<@U0ABC>", "U0ABC"),
        ("<@U0ABC|alice>", "U0ABC"),
        (" U0ABC ", "U0ABC"),
        ("42", "42"),
    ],
)
def test_members_in_either_platforms_form(text: str, user: str) -> None:
    assert parse_user(text, HERE) == UserRef(HERE, user)


@pytest.mark.parametrize(
    ("text", "channel"),
    [("<#123>", "123"), ("<#C0AB|general>", "C0AB"), ("C0AB", "C0AB")],
)
def test_channels_in_either_platforms_form(text: str, channel: str) -> None:
    assert parse_channel(text, HERE) == ChannelRef(HERE, channel)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("<@&123>", "123"),
        ("<!subteam^S0AB>", "S0AB"),
        ("<!subteam^S0AB|@mods>", "S0AB"),
        ("S0AB", "S0AB"),
    ],
)
def test_roles_and_user_groups(text: str, role: str) -> None:
    assert parse_role(text, HERE) == RoleRef(HERE, role)


@pytest.mark.parametrize(
    ("parse", "what"),
    [
        (parse_user, "is not a member; mention them, like @alice."),
        (parse_channel, "is not a channel; mention it, like #general."),
        (parse_role, "is not a role; mention it, like @moderators."),
    ],
)
@pytest.mark.parametrize("text", ["alice", "<@>", "a", "<#C1", "x" * 33, "<@&abc>", "z" * 60])
def test_what_is_not_a_mention_is_named(parse: object, what: str, text: str) -> None:
    with pytest.raises(UserError) as refused:
        parse(text, HERE)  # type: ignore[operator]
    assert refused.value.message == f"`{text[:40]}` {what}"


@pytest.mark.parametrize(
    ("parse", "ending"),
    [
        (parse_time, "is not a time of day; use a form like `22:00`."),
        (parse_bool, "is not a yes/no value; use `on` or `off`."),
        (parse_int, "is not a whole number."),
        (parse_float, "is not a number."),
    ],
)
def test_long_input_is_quoted_to_40_characters(parse: object, ending: str) -> None:
    with pytest.raises(UserError) as refused:
        parse("z" * 60)  # type: ignore[operator]
    assert refused.value.message == f"`{'z' * 40}` {ending}"


def test_ten_years_is_the_longest_duration() -> None:
    assert parse_duration(f"{10 * 365}d") == timedelta(days=3650)
    with pytest.raises(UserError):
        parse_duration(f"{10 * 365 * 86400 + 1}s")


def test_only_plain_digits_are_a_number_from_outside() -> None:
    # str.isdigit says yes to "²" and "①", which int() refuses; int() refuses 4,301 digits.
    assert digits_value("42") == 42 and digits_value("007") == 7
    for text in ("²", "①", "٣", "", " 4", "-1", "1e3", "4.0", "9" * 19, "9" * 5000):
        assert digits_value(text) is None, text
    assert digits_value("9" * 19, most=19) == int("9" * 19)
