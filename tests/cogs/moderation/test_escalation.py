"""The escalation ladder: points decay, thresholds are crossed once, voided cases count nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.moderation._escalation import (
    DEFAULT_LADDER,
    Ladder,
    PastCase,
    Sanction,
    Step,
    decide,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _warns(*days: float, points: int = 1) -> list[PastCase]:
    return [PastCase(T0 + timedelta(days=d), points) for d in days]


def _enacted(history: list[PastCase], at: datetime) -> list[PastCase]:
    """History plus the case the ladder opens for the step due at ``at``."""
    step = decide(history, at, DEFAULT_LADDER).step
    assert step is not None
    return [*history, PastCase(at, 0, enacted=step.points)]


def test_three_warnings_in_thirty_days_lead_to_a_one_day_timeout() -> None:
    decision = decide(_warns(0, 10, 20), T0 + timedelta(days=20), DEFAULT_LADDER)
    assert decision.points == 3
    assert decision.step == Step(3, Sanction.TIMEOUT, timedelta(days=1))


def test_points_older_than_the_decay_no_longer_count() -> None:
    decision = decide(_warns(0, 10, 31), T0 + timedelta(days=31), DEFAULT_LADDER)
    assert decision.points == 2
    assert decision.step is None


def test_each_threshold_is_crossed_once() -> None:
    history = _enacted(_warns(0, 1, 2), T0 + timedelta(days=2))
    assert decide(history, T0 + timedelta(days=2), DEFAULT_LADDER).step is None
    history += _warns(3)
    assert decide(history, T0 + timedelta(days=3), DEFAULT_LADDER).step is None  # 4 points
    history += _warns(4)
    assert decide(history, T0 + timedelta(days=4), DEFAULT_LADDER).step == Step(5, Sanction.KICK)


def test_a_jump_over_several_thresholds_takes_only_the_highest() -> None:
    decision = decide(_warns(0, points=9), T0, DEFAULT_LADDER)
    assert decision.step == Step(8, Sanction.BAN)


def test_voided_cases_count_nothing() -> None:
    history = [*_warns(0, 1), PastCase(T0 + timedelta(days=2), 1, voided=True)]
    assert decide(history, T0 + timedelta(days=2), DEFAULT_LADDER).step is None
    # A voided step no longer holds the next one back.
    history = [*_warns(0, 1, 2), PastCase(T0 + timedelta(days=2), 0, True, enacted=3)]
    assert decide(history, T0 + timedelta(days=2), DEFAULT_LADDER).step is not None


def test_a_crossing_after_the_last_step_aged_out_counts_again() -> None:
    history = _enacted(_warns(0, 1, 2), T0 + timedelta(days=2))
    history += _warns(40, 41, 42)
    decision = decide(history, T0 + timedelta(days=42), DEFAULT_LADDER)
    assert decision.step is not None and decision.step.sanction is Sanction.TIMEOUT


_LADDERS = st.builds(
    lambda thresholds, days: Ladder(
        points={"warn": 1},
        points_decay=timedelta(days=days),
        steps=tuple(Step(p, Sanction.TIMEOUT) for p in sorted(thresholds)),
    ),
    st.sets(st.integers(1, 12), min_size=1, max_size=4),
    st.integers(1, 60),
)
_EVENTS = st.lists(
    st.tuples(st.floats(0, 20, allow_nan=False), st.integers(0, 4), st.booleans()),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(ladder=_LADDERS, events=_EVENTS)
def test_a_timeline_steps_at_most_once_per_crossing(
    ladder: Ladder, events: list[tuple[float, int, bool]]
) -> None:
    """Replaying a member's cases, acting on each decision as the feature does."""
    history: list[PastCase] = []
    now = T0
    for gap, points, voided in events:
        now += timedelta(days=gap)
        history.append(PastCase(now, points, voided))
        decision = decide(history, now, ladder)
        live = [c for c in history if not c.voided and now - ladder.points_decay < c.at <= now]
        assert decision.points == sum(c.points for c in live)
        if decision.step is None:
            continue
        assert decision.step.points <= decision.points
        assert all(c.enacted is None or c.enacted < decision.step.points for c in live)
        history.append(PastCase(now, 0, enacted=decision.step.points))
        # Recording the step makes the same decision answer nothing: no double punishment.
        assert decide(history, now, ladder).step is None
    # Voided cases and cases from before the window never change the answer.
    noise = [PastCase(now, 99, voided=True), PastCase(now - ladder.points_decay, 99)]
    assert decide(history + noise, now, ladder) == decide(history, now, ladder)


def test_ladder_steps_are_read_as_managers_write_them() -> None:
    from cogs.moderation._escalation import parse_steps

    assert parse_steps("5 kick, 3 timeout 12h,8 BAN") == (
        Step(3, Sanction.TIMEOUT, timedelta(hours=12)),
        Step(5, Sanction.KICK),
        Step(8, Sanction.BAN),
    )
    assert parse_steps("") == ()
    for bad, says in [
        ("3 timeout", "needs how long"),
        ("3 timeout 29d", "from 1m to 28d"),
        ("3 mute 1d", "a timeout, kick or ban"),
        ("kick 3", "write steps like"),
        ("0 kick", "write steps like"),
        ("3 kick 1d", "only a timeout step"),
        ("3 kick, 3 ban", "same number of points"),
        ("3 timeout soon", "not a duration"),
        ("² kick", "write steps like"),  # a digit to str.isdigit, no number to int
        ("9" * 5000 + " kick", "write steps like"),
    ]:
        with pytest.raises(ValueError, match=says):
            parse_steps(bad)


def test_percentiles_are_nearest_rank() -> None:
    from cogs.moderation._stats import percentile

    minutes = [timedelta(minutes=m) for m in (9, 1, 5, 3, 7, 2, 8, 4, 6, 10)]
    assert percentile(minutes, 0.5) == timedelta(minutes=5)
    assert percentile(minutes, 0.9) == timedelta(minutes=9)
    assert percentile(minutes[:1], 0.9) == timedelta(minutes=9)
