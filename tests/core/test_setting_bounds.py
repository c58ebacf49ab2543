"""Settings typed as text: every number has a range and every text a length, said in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.builtin._fields import parse_setting
from bot.core import CommunityRef
from bot.core.errors import UserError
from cogs.onboarding.settings import OnboardingSettings

HERE = CommunityRef("discord", "1")


def _set(key: str, text: str) -> OnboardingSettings:
    value = parse_setting(OnboardingSettings, OnboardingSettings(), key, text, HERE)
    assert isinstance(value, OnboardingSettings)
    return value


@pytest.mark.parametrize(
    ("key", "text", "said"),
    [
        (
            "buddy_capacity",
            "-5",
            "`buddy_capacity` expects a whole number, from 1 to 50; `-5` is out of range.",
        ),
        (
            "buddy_capacity",
            "99999999999",
            "`buddy_capacity` expects a whole number, from 1 to 50; `99999999999` is out of range.",
        ),
        (
            "community_name",
            "x" * 3150,
            "`community_name` expects text, at most 100 characters; that was 3150.",
        ),
        (
            "welcome_where",
            "sometimes",
            "`welcome_where` expects one of `both`, `channel`, `dm`; `sometimes` isn't one.",
        ),
        (
            "nudge_rules_after",
            "0m",
            "`nudge_rules_after` expects a duration such as `30m`, `2h` or `3d` (or `none`"
            " to clear), from 1m to 52w. `0m` is no time at all.",
        ),
        (
            "nudge_rules_after",
            "30s",
            "`nudge_rules_after` expects a duration such as `30m`, `2h` or `3d` (or `none`"
            " to clear), from 1m to 52w; `30s` is out of range.",
        ),
        (
            "intro_reply_after",
            "60",
            "`intro_reply_after` expects a duration such as `30m`, `2h` or `3d`, from 1m to 52w."
            " `60` is not a duration; use a form like `10m`, `2h` or `3d`.",
        ),
    ],
)
def test_out_of_range_values_are_refused_in_stewards_words(key: str, text: str, said: str) -> None:
    with pytest.raises(UserError) as refused:
        _set(key, text)
    assert refused.value.message == said
    assert "Input should" not in said and "Value error" not in said


def test_values_inside_the_range_are_kept() -> None:
    assert _set("buddy_capacity", "50").buddy_capacity == 50
    assert _set("community_name", "x" * 100).community_name == "x" * 100
    assert _set("intro_reply_after", "90m").intro_reply_after == timedelta(minutes=90)
    assert _set("nudge_rules_after", "1m").nudge_rules_after == timedelta(minutes=1)


def test_a_stored_intro_reply_in_minutes_still_reads() -> None:
    old = OnboardingSettings.model_validate({"intro_reply_minutes": 45})
    assert old.intro_reply_after == timedelta(minutes=45)
    assert "intro_reply_minutes" not in old.model_dump(mode="json")
