"""The onboarding policy's finer rules: ties between buddies, cohort weeks, switched-off steps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cogs.onboarding._buddies import Candidate, choose_buddy
from cogs.onboarding._funnel import Journey, cohorts, week_of
from cogs.onboarding._ladder import Decision, Ladder, Progress, Quiet, Step, decide, plan

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
PARIS = ZoneInfo("Europe/Paris")


def test_ties_go_to_spare_room_then_to_the_id() -> None:
    roomy, tight = Candidate("b", 5, 1), Candidate("a", 2, 1)
    assert choose_buddy("n", frozenset(), [tight, roomy]) == roomy
    twin = Candidate("a", 5, 1)
    assert choose_buddy("n", frozenset(), [roomy, twin]) == twin
    assert choose_buddy("n", frozenset(), [Candidate("n", 3, 0)]) is None


def test_cohorts_follow_the_communitys_week_and_start() -> None:
    sunday_night = datetime(2026, 1, 11, 23, 30, tzinfo=UTC)  # Monday 00:30 in Paris
    assert week_of(sunday_night, ZoneInfo("UTC")).isoformat() == "2026-01-05"
    assert week_of(sunday_night, PARIS).isoformat() == "2026-01-12"
    found = cohorts([Journey(sunday_night), Journey(T0, rules_at=T0)], PARIS, T0)
    assert [(c.week.isoformat(), c.count("joined"), c.count("rules")) for c in found] == [
        ("2026-01-05", 1, 1),
        ("2026-01-12", 1, 0),
    ]
    later = cohorts([Journey(T0), Journey(T0 + timedelta(days=8))], PARIS, T0 + timedelta(days=1))
    assert [c.count("day7") for c in later] == [0]
    assert [c.week.isoformat() for c in later] == ["2026-01-12"]


def test_a_step_that_does_not_apply_is_never_planned_nor_sent() -> None:
    ladder = Ladder({Step.RULES: timedelta(hours=1)}, applies=frozenset({Step.INTRO}))
    assert ladder.delay(Step.RULES) is None
    quiet = Quiet(ZoneInfo("UTC"))
    assert plan(Progress(T0), ladder, quiet) == {}
    assert decide(Step.RULES, Progress(T0), ladder, T0 + timedelta(days=1), quiet).action == "drop"


def test_a_nudge_not_yet_due_waits_for_its_time_outside_quiet_hours() -> None:
    ladder = Ladder({Step.RULES: timedelta(hours=14)})  # due at 23:00 Paris time
    nights = Quiet(PARIS, time(22, 0), time(8, 0))
    early = decide(Step.RULES, Progress(T0), ladder, T0 + timedelta(hours=1), nights)
    assert early == Decision("wait", datetime(2026, 1, 6, 7, 0, tzinfo=UTC))  # 08:00 Paris
