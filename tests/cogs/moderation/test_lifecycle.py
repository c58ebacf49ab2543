"""A case's life: allowed moves, refusals in words, and an audit that matches every move."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cogs.moderation._lifecycle import NEXT, TERMINAL, Case, Move, MoveRefused, Status, apply

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TRIED = {
    "moves": 0,
    "applied": 0,
    "replayed": 0,
    "refused": 0,
    "closed": 0,
    "appealed": 0,
    "decided": 0,
}
"""Counts across examples, for the notes (read them after a run; nothing asserts on them)."""


def test_a_report_goes_from_open_to_closed_with_every_move_audited() -> None:
    case = Case(target="bob")
    for i, move in enumerate([Move.ACKNOWLEDGE, Move.ACTION, Move.APPEAL, Move.UPHOLD, Move.CLOSE]):
        actor = "bob" if move is Move.APPEAL else "mod1"
        case = apply(case, move, actor, T0 + timedelta(minutes=i), f"i{i}", case.version)
    assert case.status is Status.CLOSED
    assert [(a.before, a.after, a.actor) for a in case.audit] == [
        (Status.OPEN, Status.ACKNOWLEDGED, "mod1"),
        (Status.ACKNOWLEDGED, Status.ACTIONED, "mod1"),
        (Status.ACTIONED, Status.APPEALED, "bob"),
        (Status.APPEALED, Status.UPHELD, "mod1"),
        (Status.UPHELD, Status.CLOSED, "mod1"),
    ]


def test_the_slower_of_two_moderators_is_told_who_got_there_first() -> None:
    case = Case(target="bob")
    seen = case.version
    case = apply(case, Move.ACKNOWLEDGE, "mod1", T0, "press-1", seen)
    with pytest.raises(MoveRefused, match=r"just acknowledged by <@mod1>"):
        apply(case, Move.DISMISS, "mod2", T0, "press-2", seen)


def test_a_button_pressed_twice_moves_the_case_once() -> None:
    case = apply(Case(target="bob"), Move.ACKNOWLEDGE, "mod1", T0, "press-1", 0)
    assert apply(case, Move.ACKNOWLEDGE, "mod1", T0, "press-1", 0) is case


def test_only_the_target_appeals_and_nobody_judges_their_own_case() -> None:
    case = apply(Case(target="bob"), Move.ACTION, "mod1", T0, "k1", 0)
    with pytest.raises(MoveRefused, match="Only the member"):
        apply(case, Move.APPEAL, "mod1", T0, "k2", 1)
    appealed = apply(case, Move.APPEAL, "bob", T0, "k2", 1)
    with pytest.raises(MoveRefused, match="about yourself"):
        apply(appealed, Move.OVERTURN, "bob", T0, "k3", 2)
    with pytest.raises(MoveRefused, match="A case that is actioned cannot be acknowledged"):
        apply(case, Move.ACKNOWLEDGE, "mod1", T0, "k4", 1)


class TwoModeratorsAndAMember(RuleBasedStateMachine):
    """Two moderators and the member act on one case, on stale views, with repeated presses."""

    def __init__(self) -> None:
        super().__init__()
        self.case = Case(target="member")
        self.seen = {"mod1": 0, "mod2": 0, "member": 0}
        self.keys = itertools.count()
        self.applied = 0
        self.pressed: list[tuple[str, Move, str, int]] = []

    @rule(who=st.sampled_from(["mod1", "mod2", "member"]))
    def look(self, who: str) -> None:
        """Someone refreshes their view of the case."""
        self.seen[who] = self.case.version

    @rule(who=st.sampled_from(["mod1", "mod2", "member"]), move=st.sampled_from(list(Move)))
    def press(self, who: str, move: Move) -> None:
        """Someone presses a button, on the version they last saw."""
        key = f"k{next(self.keys)}"
        self._try(who, move, key, self.seen[who])
        self.pressed.append((who, move, key, self.seen[who]))

    @rule(data=st.data(), who=st.sampled_from(["mod1", "mod2"]))
    def press_what_the_screen_offers(self, data: st.DataObject, who: str) -> None:
        """Someone presses one of the buttons the case offers now (so cases do reach closed)."""
        offered = [m for (status, m) in NEXT if status is self.case.status]
        if not offered:
            offered = list(Move)
        move = data.draw(st.sampled_from(offered))
        presser = "member" if move is Move.APPEAL else who
        self.seen[presser] = self.case.version  # the screen shows the case as it is now
        self.press(presser, move)

    @precondition(lambda self: bool(self.pressed))
    @rule(index=st.integers(0, 1000))
    def press_again(self, index: int) -> None:
        """A press delivered a second time (a double click, a retried interaction)."""
        who, move, key, seen = self.pressed[index % len(self.pressed)]
        before = self.case
        self._try(who, move, key, seen)
        if any(a.key == key for a in before.audit):
            assert self.case is before
            TRIED["replayed"] += 1

    def _try(self, who: str, move: Move, key: str, seen: int) -> None:
        TRIED["moves"] += 1
        before = self.case
        try:
            self.case = apply(before, move, who, T0 + timedelta(seconds=before.version), key, seen)
        except MoveRefused as refusal:
            TRIED["refused"] += 1
            assert str(refusal)
            return
        if self.case is not before:
            assert before.status not in TERMINAL, "a move left a terminal state"
            assert NEXT[(before.status, move)] is self.case.status
            self.applied += 1
            TRIED["applied"] += 1
            TRIED["closed"] += self.case.status in TERMINAL
            TRIED["appealed"] += move is Move.APPEAL
            TRIED["decided"] += move in (Move.UPHOLD, Move.OVERTURN)

    @invariant()
    def audit_matches_every_move(self) -> None:
        """One audit row per applied move, chained, each with who and when, each key once."""
        audit = self.case.audit
        assert len(audit) == self.applied == self.case.version
        statuses = [Status.OPEN, *(a.after for a in audit)]
        assert [a.before for a in audit] == statuses[:-1]
        assert statuses[-1] is self.case.status
        assert all(a.actor and a.at for a in audit)
        assert len({a.key for a in audit}) == len(audit)
        assert all(a.after not in TERMINAL for a in audit[:-1])

    @invariant()
    def appealed_once_by_the_member_and_decided_once_by_a_moderator(self) -> None:
        """An appeal comes from the member, at most once, and gets at most one decision, from
        someone else, after it."""
        audit = self.case.audit
        appeals = [i for i, a in enumerate(audit) if a.move is Move.APPEAL]
        decisions = [i for i, a in enumerate(audit) if a.move in (Move.UPHOLD, Move.OVERTURN)]
        assert len(appeals) <= 1 and len(decisions) <= 1
        assert all(audit[i].actor == "member" for i in appeals)
        assert all(audit[i].actor != "member" for i in decisions)
        assert not decisions or (appeals and appeals[0] < decisions[0])


TwoModeratorsAndAMember.TestCase.settings = settings(
    max_examples=300, stateful_step_count=30, deadline=None
)
test_two_moderators_and_a_member = TwoModeratorsAndAMember.TestCase
