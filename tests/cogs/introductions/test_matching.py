"""The matcher with plain values: everyone placed once, no repeats, no blocked pairs, sizes 2-8."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.introductions._matching import MAX_SIZE, MIN_SIZE, Group, make_groups
from cogs.introductions._weights import MODES, Affinity, Mode, Person, Weigher


def pairs_in(groups: list[Group]) -> set[frozenset[str]]:
    """Every pair of members who meet in these groups."""
    return {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}


def people(n: int, interests: int = 6, seed: int = 0) -> list[Person]:
    """``n`` members with one to three interests each, every third one a newcomer."""
    rng = random.Random(seed)
    return [
        Person(f"m{i}", frozenset(rng.sample(range(interests), rng.randint(1, 3))), i % 3 == 0)
        for i in range(n)
    ]


Pairs = set[frozenset[str]]
Case = tuple[list[Person], Pairs, Pairs, Affinity]


@st.composite
def rounds(
    draw: st.DrawFn,
) -> tuple[list[Person], set[frozenset[str]], set[frozenset[str]], Affinity]:
    """A pool, a history, do-not-pair lists and the round's preferences."""
    n = draw(st.integers(0, 40))
    pool = people(n, seed=draw(st.integers(0, 1000)))
    ids = [p.user_id for p in pool]
    all_pairs = [frozenset(p) for p in itertools.combinations(ids, 2)]
    pick = st.sets(st.sampled_from(all_pairs), max_size=3 * n) if all_pairs else st.just(set())
    history, blocked = draw(pick), draw(pick)
    talked: dict[str, frozenset[str]] = {}
    for pair in draw(pick):
        a, b = sorted(pair)
        talked[a] = talked.get(a, frozenset()) | {b}
        talked[b] = talked.get(b, frozenset()) | {a}
    mode: Mode = draw(st.sampled_from(MODES))
    size = draw(st.integers(MIN_SIZE, MAX_SIZE))
    return pool, history, blocked, Affinity(mode, size, talked, draw(st.integers(1, 15)))


@settings(max_examples=300, deadline=None)
@given(rounds(), st.integers(0, 2**32))
def test_a_round_never_repeats_never_pairs_blocked_and_places_everyone_at_most_once(
    case: Case, seed: int
) -> None:
    pool, history, blocked, affinity = case
    groups = make_groups(pool, history, blocked, affinity, random.Random(seed))
    placed = [u for g in groups for u in g]
    assert len(placed) == len(set(placed))
    assert set(placed) <= {p.user_id for p in pool}
    assert not pairs_in(groups) & (history | blocked)
    assert all(MIN_SIZE <= len(g) <= MAX_SIZE for g in groups)
    if affinity.group_size == 2:
        assert sum(len(g) == 3 for g in groups) <= max(1, len(pool) - len(placed) + 1)
        # A member left out could not have joined any pair as a third.
        forbidden = history | blocked
        for u in {p.user_id for p in pool} - set(placed):
            for g in groups:
                if len(g) == 2:
                    assert any(frozenset((u, m)) in forbidden for m in g)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 60), st.integers(MIN_SIZE, MAX_SIZE), st.sampled_from(MODES), st.integers())
def test_without_history_everyone_is_placed_once_in_groups_of_the_chosen_size(
    n: int, size: int, mode: Mode, seed: int
) -> None:
    groups = make_groups(people(n), set(), set(), Affinity(mode, size), random.Random(seed))
    placed = sorted(u for g in groups for u in g)
    assert placed == sorted(f"m{i}" for i in range(n))
    if size == 2:
        assert sorted(len(g) for g in groups) == [2] * (n // 2 - n % 2) + [3] * (n % 2)
    else:
        assert all(len(g) <= MAX_SIZE for g in groups)
        assert max(len(g) for g in groups) - min(len(g) for g in groups) <= 1


def test_members_who_share_interests_meet_in_interest_mode() -> None:
    pool = [
        Person("ana", frozenset({1, 2})),
        Person("cy", frozenset({3, 4})),
        Person("bo", frozenset({1, 2})),
        Person("di", frozenset({3, 4})),
    ]
    for seed in range(20):
        groups = make_groups(pool, set(), set(), Affinity("interest"), random.Random(seed))
        assert {frozenset(g) for g in groups} == {frozenset({"ana", "bo"}), frozenset({"cy", "di"})}


def test_newcomers_meet_veterans_in_cross_mode() -> None:
    pool = [Person(f"new{i}", newcomer=True) for i in range(4)]
    pool += [Person(f"old{i}") for i in range(6)]
    for seed in range(20):
        groups = make_groups(pool, set(), set(), Affinity("cross"), random.Random(seed))
        mixed = [g for g in groups if {u[:3] for u in g} == {"new", "old"}]
        assert len(mixed) == 4


def test_two_pockets_that_never_talked_are_joined() -> None:
    left = [f"l{i}" for i in range(6)]
    right = [f"r{i}" for i in range(6)]
    talked = {u: frozenset(set(side) - {u}) for side in (left, right) for u in side}
    pool = [Person(u) for u in left + right]
    for seed in range(20):
        groups = make_groups(
            pool, set(), set(), Affinity("random", talked=talked), random.Random(seed)
        )
        assert all({u[0] for u in g} == {"l", "r"} for g in groups)


def test_a_member_everyone_blocked_is_left_out_and_the_rest_are_paired() -> None:
    pool = people(7)
    blocked = {frozenset({"m0", p.user_id}) for p in pool[1:]}
    groups = make_groups(pool, set(), blocked, Affinity(), random.Random(1))
    assert sorted(u for g in groups for u in g) == [f"m{i}" for i in range(1, 7)]
    assert [len(g) for g in groups] == [2, 2, 2]


def test_a_full_history_moves_everyone_to_someone_new() -> None:
    pool = people(10)
    first = make_groups(pool, set(), set(), Affinity(), random.Random(1))
    second = make_groups(pool, pairs_in(first), set(), Affinity(), random.Random(1))
    assert not pairs_in(first) & pairs_in(second)
    assert sum(len(g) for g in second) == 10


def test_a_group_size_outside_two_to_eight_is_refused() -> None:
    with pytest.raises(ValueError, match="2 to 8"):
        make_groups(people(4), set(), set(), Affinity(group_size=9), random.Random(1))


@pytest.mark.parametrize("mode", MODES)
def test_vectorised_weights_equal_the_pairwise_ones(mode: Mode) -> None:
    pool = people(30, interests=70)  # over 64 interests: two words per member
    talked = {"m1": frozenset({"m2"}), "m2": frozenset({"m1", "m3"}), "m3": frozenset({"m2", "m4"})}
    talked["m4"] = frozenset({"m3"})
    weigher = Weigher(pool, Affinity(mode, talked=talked))
    every = list(itertools.combinations(range(30), 2))
    lo = np.array([a for a, _ in every], dtype=np.int64)
    hi = np.array([b for _, b in every], dtype=np.int64)
    expected = [weigher.weight(int(a), int(b)) for a, b in zip(lo, hi, strict=True)]
    assert weigher.weights(lo, hi).tolist() == expected
    assert [weigher.distance(1, j) for j in (2, 3, 4, 5)] == [1, 2, 3, 4]


def test_a_heavy_pair_is_broken_when_that_places_two_more_people() -> None:
    # ana and bo share everything, but keeping them together would leave cy and di out.
    pool = [
        Person("ana", frozenset({1, 2})),
        Person("bo", frozenset({1, 2})),
        Person("cy", frozenset({1})),
        Person("di", frozenset({2})),
    ]
    blocked = {frozenset({"cy", "di"}), frozenset({"ana", "di"}), frozenset({"bo", "cy"})}
    groups = make_groups(pool, set(), blocked, Affinity("interest"), random.Random(3))
    assert {frozenset(g) for g in groups} == {frozenset({"ana", "cy"}), frozenset({"bo", "di"})}


def test_an_odd_member_who_fits_no_pair_takes_a_place_and_the_displaced_one_joins_another() -> None:
    # ed may only meet bo; when bo is paired with ana, ana moves into cy and di's pair.
    pool = [Person(name) for name in ("ana", "bo", "cy", "di", "ed")]
    blocked = {frozenset({"ed", other}) for other in ("ana", "cy", "di")}
    history = {frozenset({"bo", "cy"}), frozenset({"bo", "di"})}
    for seed in range(20):
        groups = make_groups(pool, history, blocked, Affinity(), random.Random(seed))
        placed = sorted(u for g in groups for u in g)
        assert placed == ["ana", "bo", "cy", "di", "ed"], groups
        assert not pairs_in(groups) & (history | blocked)
