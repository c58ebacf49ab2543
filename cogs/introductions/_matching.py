"""Forming a round's groups (pure): heavy pairs first, then swaps, never a repeat or a blocked pair.

Pairs: a greedy matching over each member's best candidates (heaviest pair first), improved by
swaps ``(a,b),(c,d) -> (a,c),(b,d)`` while any gains, then leftovers paired with whoever they may
still meet (breaking a pair when that places two people), and an odd member joins a pair as a trio.
Larger groups grow around a seed, adding the member who weighs most with everyone already in it.
A member who may meet nobody (all repeats or blocked) is left out rather than forced.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from cogs.introductions._weights import Affinity, Ints, Person, Weigher, member_of

Group = tuple[str, ...]
MIN_SIZE, MAX_SIZE = 2, 8


class _Rules:
    """Who may meet whom, by index: not met within the history, not blocked."""

    def __init__(self, weigher: Weigher, *avoid: Collection[frozenset[str]]) -> None:
        index, n = weigher.index, len(weigher.people)
        self.n = n
        self.forbidden: set[int] = set()
        for pairs in avoid:
            for pair in pairs:
                ids = [index[u] for u in pair if u in index]
                if len(ids) == 2:
                    self.forbidden.add(min(ids) * n + max(ids))

    def ok(self, i: int, j: int) -> bool:
        """Whether ``i`` and ``j`` may be put together."""
        return i != j and (min(i, j) * self.n + max(i, j)) not in self.forbidden


def make_groups(
    people: Sequence[Person],
    history: Collection[frozenset[str]],
    blocked: Collection[frozenset[str]],
    affinity: Affinity,
    rng: random.Random,
) -> list[Group]:
    """This round's groups: everyone who can be placed exactly once, no pair from ``history``
    or ``blocked``, sizes from 2 to 8 (``affinity.group_size``, an odd member making a trio)."""
    if not MIN_SIZE <= affinity.group_size <= MAX_SIZE:
        raise ValueError(f"group size must be {MIN_SIZE} to {MAX_SIZE}")
    order = list(dict.fromkeys(p.user_id for p in people))
    by_id = {p.user_id: p for p in people}
    shuffled = [by_id[u] for u in order]
    rng.shuffle(shuffled)  # ties go to a different pair each round
    weigher = Weigher(shuffled, affinity)
    rules = _Rules(weigher, history, blocked)
    if len(shuffled) < MIN_SIZE:
        return []
    lo, hi = weigher.candidates(rng.getrandbits(63))
    if rules.forbidden:
        keep = ~np.isin(lo * rules.n + hi, np.fromiter(rules.forbidden, np.int64))
        lo, hi = lo[keep], hi[keep]
    w = weigher.weights(lo, hi)
    heaviest_first = np.argsort(-w, kind="stable")
    lo, hi, w = lo[heaviest_first], hi[heaviest_first], w[heaviest_first]
    edges = Edges(w, lo, hi)
    if affinity.group_size == 2:
        groups = _pairs(weigher, rules, edges)
    else:
        groups = _larger(weigher, rules, edges, affinity.group_size)
    return [tuple(shuffled[i].user_id for i in g) for g in groups]


class Edges(NamedTuple):
    """Candidate pairs ``(lo[e], hi[e])`` with their weights, heaviest first."""

    w: Ints
    lo: Ints
    hi: Ints

    def listed(self) -> Iterator[tuple[int, int, int]]:
        """``(weight, lo, hi)`` per edge as Python ints, heaviest first."""
        return zip(self.w.tolist(), self.lo.tolist(), self.hi.tolist(), strict=True)


def _pairs(weigher: Weigher, rules: _Rules, edges: Edges) -> list[list[int]]:
    """Pairs by greedy matching and swaps, then leftovers placed, then an odd one in a trio."""
    n = rules.n
    mate, held = [-1] * n, [0] * n
    for w, a, b in edges.listed():  # heaviest first
        if mate[a] < 0 and mate[b] < 0:
            mate[a], mate[b], held[a], held[b] = b, a, w, w
    _improve(weigher, rules, edges, mate, held)
    _place_leftovers(weigher, rules, mate)
    groups = [[a, b] for a, b in enumerate(mate) if a < b]
    for u in (u for u in range(n) if mate[u] < 0):
        trios = [g for g in groups if len(g) == 2 and all(rules.ok(u, m) for m in g)]
        if trios:
            best = max(trios, key=lambda g: sum(weigher.weight(u, m) for m in g))
            best.append(u)
        else:
            _displace(rules, groups, u)
    return groups


def _displace(rules: _Rules, groups: list[list[int]], u: int) -> None:
    """Place ``u`` who fits no pair as a third: take ``a``'s place beside ``b`` in a pair and
    move ``a`` into another pair as its third, when all may meet."""
    for g in groups:
        if len(g) != 2:
            continue
        for a, b in ((g[0], g[1]), (g[1], g[0])):
            if not rules.ok(u, b):
                continue
            home = next(
                (
                    h
                    for h in groups
                    if h is not g and len(h) == 2 and all(rules.ok(a, m) for m in h)
                ),
                None,
            )
            if home is not None:
                g[:] = [b, u]
                home.append(a)
                return


def _improve(
    weigher: Weigher,
    rules: _Rules,
    edges: Edges,
    mate: list[int],
    held: list[int],
) -> None:
    """Swap partners between two pairs, ``(a,b),(c,d) -> (a,c),(b,d)``, while that raises the
    total weight (``held[x]`` is the weight of the pair ``x`` is in).

    Each pass weighs every swap a candidate edge ``a-c`` offers at once (vectorised), then makes
    the best ones first, each member changing pairs at most once per pass."""
    w, lo, hi = edges
    if not len(w):
        return
    n = rules.n
    rows, cols, ws = np.concatenate([lo, hi]), np.concatenate([hi, lo]), np.concatenate([w, w])
    forbidden = np.sort(np.fromiter(rules.forbidden, np.int64, len(rules.forbidden)))
    for _ in range(PASSES):
        partner = np.array(mate, dtype=np.int64)
        weight = np.array(held, dtype=np.int64)
        b, d = partner[rows], partner[cols]
        maybe = (ws > weight[rows]) & (b >= 0) & (d >= 0) & (cols != b)
        a, c, w_ac, b, d = rows[maybe], cols[maybe], ws[maybe], b[maybe], d[maybe]
        allowed = ~member_of(forbidden, np.minimum(b, d) * n + np.maximum(b, d))
        a, c, w_ac, b, d = a[allowed], c[allowed], w_ac[allowed], b[allowed], d[allowed]
        w_bd = weigher.weights(b, d)
        gain = w_ac + w_bd - weight[a] - weight[c]
        best = np.flatnonzero(gain > 0)
        best = best[np.argsort(-gain[best], kind="stable")]
        moved = bytearray(n)
        made = False
        for at in best.tolist():
            x, y, p, q = int(a[at]), int(c[at]), int(b[at]), int(d[at])
            if moved[x] or moved[y] or moved[p] or moved[q]:
                continue
            w_xy, w_pq = int(w_ac[at]), int(w_bd[at])
            mate[x], mate[y], mate[p], mate[q] = y, x, q, p
            held[x], held[y], held[p], held[q] = w_xy, w_xy, w_pq, w_pq
            moved[x] = moved[y] = moved[p] = moved[q] = 1
            made = True
        if not made:
            return


PASSES = 8
"""At most this many rounds of swaps (each pass usually finds far fewer than the last)."""


def _place_leftovers(weigher: Weigher, rules: _Rules, mate: list[int]) -> None:
    """Pair unmatched members together, or break a pair when that places two more people."""
    alone = [u for u in range(rules.n) if mate[u] < 0]
    for u in alone:
        if mate[u] >= 0:
            continue
        partner = next((v for v in alone if v != u and mate[v] < 0 and rules.ok(u, v)), None)
        if partner is not None:
            mate[u], mate[partner] = partner, u
    alone = [u for u in range(rules.n) if mate[u] < 0]
    while len(alone) >= 2:
        u = alone.pop()
        for a in range(rules.n):
            b = mate[a]
            if b < 0 or not rules.ok(u, a):
                continue
            v = next((v for v in alone if rules.ok(v, b)), None)
            if v is not None:
                alone.remove(v)
                mate[u], mate[a], mate[b], mate[v] = a, u, v, b
                break


def _larger(weigher: Weigher, rules: _Rules, edges: Edges, size: int) -> list[list[int]]:
    """Groups of about ``size`` grown around seeds, never over MAX_SIZE."""
    n = rules.n
    count = max(1, n // size)
    if -(-n // count) > MAX_SIZE:
        count += 1
    near: dict[int, set[int]] = {}
    for _, a, b in edges.listed():
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)
    free = set(range(n))
    groups: list[list[int]] = []
    for g in range(count):
        target = n // count + (1 if g < n % count else 0)
        seed = min(free, key=lambda u: (len(near.get(u, ())), u))
        group = [seed]
        free.discard(seed)
        while len(group) < target:
            pool = set().union(*(near.get(m, set()) for m in group)) & free or free
            fits = [v for v in pool if all(rules.ok(v, m) for m in group)]
            if not fits:
                break
            best = max(fits, key=lambda v: (sum(weigher.weight(v, m) for m in group), -v))
            group.append(best)
            free.discard(best)
        groups.append(group)
    for u in sorted(free):
        room = [g for g in groups if len(g) < MAX_SIZE and all(rules.ok(u, m) for m in g)]
        if room:
            min(room, key=len).append(u)
    singles = [g[0] for g in groups if len(g) == 1]
    groups = [g for g in groups if len(g) >= MIN_SIZE]
    for u in singles:
        room = [g for g in groups if len(g) < MAX_SIZE and all(rules.ok(u, m) for m in g)]
        if room:
            min(room, key=len).append(u)
    return groups
