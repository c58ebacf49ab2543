"""One helper says counts in words: "1 hour", never "1 hours"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import plural
from cogs.onboarding._admin import _span


@pytest.mark.parametrize(
    ("count", "said"), [(0, "0 newcomers"), (1, "1 newcomer"), (2, "2 newcomers")]
)
def test_a_count_takes_the_singular_only_for_one(count: int, said: str) -> None:
    assert plural(count, "newcomer") == said


def test_an_irregular_plural_is_given() -> None:
    assert plural(3, "reply", "replies") == "3 replies"
    assert plural(1, "reply", "replies") == "1 reply"


def test_reminder_delays_read_as_people_say_them() -> None:
    assert _span(timedelta(hours=1)) == "1 hour"
    assert _span(timedelta(hours=24)) == "24 hours"
    assert _span(timedelta(days=3)) == "3 days"
