"""Pure policy: the nudge ladder, buddy choice and the funnel, with plain values."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core import UserError
from bot.core.templates import parse_template
from cogs.onboarding._buddies import Candidate, choose_buddy
from cogs.onboarding._funnel import Journey, cohorts
from cogs.onboarding._ladder import (
    DROP,
    SEND,
    Decision,
    Ladder,
    Progress,
    Quiet,
    Step,
    decide,
    due_together,
    plan,
)
from cogs.onboarding._texts import FIELDS, welcome_template, welcome_text

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
LADDER = Ladder(
    {
        Step.RULES: timedelta(hours=24),
        Step.INTERESTS: timedelta(days=2),
        Step.INTRO: timedelta(days=3),
        Step.SILENT: timedelta(days=7),
    }
)
AWAKE = Quiet(UTC_ZONE)
NIGHTS = Quiet(UTC_ZONE, time(22, 0), time(8, 0))


def test_plan_skips_done_sent_and_switched_off_steps() -> None:
    progress = Progress(T0, rules_at=T0, nudged=frozenset({Step.INTRO}))
    ladder = Ladder({**LADDER.delays, Step.SILENT: None})
    assert plan(progress, ladder, AWAKE) == {Step.INTERESTS: T0 + timedelta(days=2)}


def test_a_nudge_due_at_night_waits_for_morning() -> None:
    ladder = Ladder({Step.RULES: timedelta(hours=14)})
    due = plan(Progress(T0), ladder, NIGHTS)[Step.RULES]
    assert due == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    at_night = decide(Step.RULES, Progress(T0), ladder, T0 + timedelta(hours=14), NIGHTS)
    assert at_night.action == "wait" and at_night.at == due


def test_reminders_due_together_go_out_together_and_only_those() -> None:
    # Four days on, nothing done: rules, interests and intro are all due (silent is not).
    late = T0 + timedelta(days=4)
    assert due_together(Step.RULES, Progress(T0), LADDER, late, AWAKE) == [
        Step.RULES,
        Step.INTERESTS,
        Step.INTRO,
    ]
    # Two days on: the intro is not due yet; a done or already sent step is left out.
    two = T0 + timedelta(days=2)
    assert due_together(Step.INTERESTS, Progress(T0), LADDER, two, AWAKE) == [
        Step.RULES,
        Step.INTERESTS,
    ]
    progress = Progress(T0, rules_at=T0, nudged=frozenset({Step.INTERESTS}))
    assert due_together(Step.INTRO, progress, LADDER, late, AWAKE) == [Step.INTRO]
    # A step that is not due itself, or the greeters' alert, brings nobody along.
    assert due_together(Step.INTRO, Progress(T0), LADDER, two, AWAKE) == []
    assert due_together(Step.SILENT, Progress(T0), LADDER, T0 + timedelta(days=8), AWAKE) == []
    # At night everything waits for the morning.
    night = datetime(2026, 1, 9, 23, 0, tzinfo=UTC)
    assert due_together(Step.RULES, Progress(T0), LADDER, night, NIGHTS) == []


def test_done_or_gone_members_are_never_nudged() -> None:
    later = T0 + timedelta(days=3)
    assert decide(Step.RULES, Progress(T0, rules_at=T0), LADDER, later, AWAKE) is DROP
    assert decide(Step.RULES, Progress(T0, present=False), LADDER, later, AWAKE) is DROP
    assert decide(Step.RULES, Progress(T0), LADDER, later, AWAKE) is SEND
    silent = Progress(T0, intro_at=T0)  # an intro is a post: not silent
    assert decide(Step.SILENT, silent, LADDER, T0 + timedelta(days=8), AWAKE) is DROP


@given(
    st.sampled_from(list(Step)),
    st.integers(min_value=0, max_value=20 * 24),
    st.frozensets(st.sampled_from(list(Step))),
)
def test_a_step_already_nudged_never_sends_again(
    step: Step, hours: int, nudged: frozenset[Step]
) -> None:
    progress = Progress(T0, nudged=nudged | {step})
    assert decide(step, progress, LADDER, T0 + timedelta(hours=hours), NIGHTS) is DROP


@given(st.integers(min_value=0, max_value=24 * 60 * 3))
@example(24 * 60)  # due at 09:00: goes out at once
@example(24 * 60 + 13 * 60)  # 22:00, quiet hours begin
@example(24 * 60 + 23 * 60 - 1)  # 07:59 the morning after
def test_a_due_nudge_goes_out_exactly_when_awake_else_waits_for_morning(minutes: int) -> None:
    now = T0 + timedelta(minutes=minutes)
    decision = decide(Step.RULES, Progress(T0), LADDER, now, NIGHTS)
    due = T0 + timedelta(hours=24)  # 09:00, outside quiet hours
    awake = time(8, 0) <= now.time() < time(22, 0)
    if now < due:
        assert decision == Decision("wait", due)
    elif awake:
        assert decision is SEND
    else:
        morning = datetime.combine(now.date(), time(8, 0), UTC)
        if now.time() >= time(22, 0):
            morning += timedelta(days=1)
        assert decision == Decision("wait", morning)


candidates = st.builds(
    Candidate,
    user_id=st.sampled_from([f"u{n}" for n in range(8)]),
    capacity=st.integers(min_value=0, max_value=4),
    load=st.integers(min_value=0, max_value=5),
    paused=st.booleans(),
    interests=st.frozensets(st.integers(min_value=1, max_value=5), max_size=3),
)


@given(
    st.lists(candidates, max_size=8, unique_by=lambda c: c.user_id),
    st.frozensets(st.integers(min_value=1, max_value=5), max_size=3),
)
def test_the_chosen_buddy_is_open_and_best_by_interests_then_load(
    pool: list[Candidate], interests: frozenset[int]
) -> None:
    chosen = choose_buddy("u0", interests, pool)
    open_ = [c for c in pool if not c.paused and c.load < c.capacity and c.user_id != "u0"]
    if not open_:
        assert chosen is None
        return
    assert chosen is not None and chosen in open_
    best_shared = max(len(c.interests & interests) for c in open_)
    assert len(chosen.interests & interests) == best_shared
    tied = [c for c in open_ if len(c.interests & interests) == best_shared]
    assert chosen.load == min(c.load for c in tied)


def test_shared_interest_beats_a_lighter_load() -> None:
    pool = [Candidate("a", 3, 2, interests=frozenset({1})), Candidate("b", 3, 0)]
    assert choose_buddy("n", frozenset({1}), pool) == pool[0]
    assert choose_buddy("n", frozenset(), pool) == pool[1]


def test_funnel_counts_each_weekly_cohort() -> None:
    week2 = T0 + timedelta(days=7)
    journeys = [
        Journey(T0, rules_at=T0, interests_at=T0, intro_at=T0, first_reply_at=T0),
        Journey(T0 + timedelta(days=6), rules_at=T0),
        Journey(week2, day7_active_at=week2),
        Journey(T0 - timedelta(days=30)),  # before the period
    ]
    found = cohorts(journeys, UTC_ZONE, T0 - timedelta(days=1))
    assert [(c.week.isoformat(), c.counts) for c in found] == [
        ("2026-01-05", (2, 2, 1, 1, 1, 0)),
        ("2026-01-12", (1, 0, 0, 0, 0, 1)),
    ]


def test_welcome_template_fields_and_errors() -> None:
    with pytest.raises(UserError, match="not a field you can use"):
        parse_template("Hi {password}", FIELDS)
    text = welcome_text(
        welcome_template("{member} @everyone, meet {buddy} in {community} ({member_count})"),
        member="<@1>",
        community="<@2> club",
        member_count=12,
        rules=None,
        intro_channel=None,
        buddy="<@3>",
    )
    assert text.startswith("<@1> @\u200beveryone, meet <@3> in <\u200b@2> club (12)")
    assert welcome_template("{broken").parts == welcome_template(None).parts
