"""How much a pair would gain from meeting (pure): shared interests, sides, and distance apart.

The weight of a pair is ``base * distance`` where ``base`` depends on the mode (interest mode:
1 + ⌊100·Jaccard⌋ of their interests; cross mode: 8 for a newcomer with a veteran, else 1; random
mode: 1) and ``distance`` is the number of hops between them in the who-talked-to-whom graph,
capped at 4 (no path counts as 4). Multiplying rather than adding keeps ratios between matchings
unchanged when nobody has talked yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Mode = Literal["random", "interest", "cross"]
MODES: tuple[Mode, ...] = ("random", "interest", "cross")
FAR = 4
"""Hops at which two members count as strangers (and the factor a pair with no path gets)."""
CROSS_BONUS = 8
"""How much more a newcomer-veteran pair is worth than a same-side pair in cross mode."""


@dataclass(frozen=True, slots=True)
class Person:
    """A member of this round's pool as the matcher sees them."""

    user_id: str
    interests: frozenset[int] = frozenset()
    newcomer: bool = False


@dataclass(frozen=True, slots=True)
class Affinity:
    """What the round prefers: the mode, the group size and who has already talked to whom."""

    mode: Mode = "random"
    group_size: int = 2
    talked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    candidates: int = 25


class Weigher:
    """Pair weights for one pool, by index; built once per round."""

    def __init__(self, people: Sequence[Person], affinity: Affinity) -> None:
        self.people = people
        self.affinity = affinity
        self.index = {p.user_id: i for i, p in enumerate(people)}
        self.bits = [sum(1 << t for t in p.interests) for p in people]
        self.sizes = [len(p.interests) for p in people]
        self.matrix = _interest_matrix(people)
        self.words = _pack(self.matrix)
        self.newcomer = np.array([p.newcomer for p in people], dtype=bool)
        self._near: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
        self._csr: _Csr | None = None
        self._graph = {
            self.index[u]: frozenset(self.index[v] for v in vs if v in self.index and v != u)
            for u, vs in affinity.talked.items()
            if u in self.index
        }

    def base(self, i: int, j: int) -> int:
        """The mode's part of the weight of pair ``(i, j)``."""
        mode = self.affinity.mode
        if mode == "interest":
            inter = (self.bits[i] & self.bits[j]).bit_count()
            union = self.sizes[i] + self.sizes[j] - inter
            return 1 + (100 * inter) // union if union else 1
        if mode == "cross":
            return CROSS_BONUS if self.people[i].newcomer != self.people[j].newcomer else 1
        return 1

    def _ball(self, i: int) -> tuple[frozenset[int], frozenset[int]]:
        """The members within one hop and within two hops of ``i``."""
        found = self._near.get(i)
        if found is None:
            one = self._graph.get(i, frozenset())
            two = one.union(*(self._graph.get(k, frozenset()) for k in one)) - {i}
            found = self._near[i] = (one, two)
        return found

    def distance(self, i: int, j: int) -> int:
        """Hops between ``i`` and ``j`` in the talk graph, capped at FAR."""
        if not self._graph:
            return FAR
        one_i, two_i = self._ball(i)
        if j in one_i:
            return 1
        if j in two_i:
            return 2
        one_j = self._ball(j)[0]
        return 3 if not two_i.isdisjoint(one_j) else FAR

    def weight(self, i: int, j: int) -> int:
        """The weight of pair ``(i, j)``."""
        return self.base(i, j) * self.distance(i, j)

    def weights(self, lo: Ints, hi: Ints) -> Ints:
        """The weights of pairs ``(lo[e], hi[e])``, vectorised (same values as ``weight``)."""
        factor = self._hops(lo, hi) if self._graph else np.full(len(lo), FAR, dtype=np.int64)
        result: Ints = np.multiply(self._bases(lo, hi), factor, dtype=np.int64)
        return result

    def _bases(self, lo: Ints, hi: Ints) -> Ints:
        """The mode's part of each pair's weight, vectorised."""
        mode = self.affinity.mode
        if mode == "interest":
            a, b = self.words[lo], self.words[hi]
            inter = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
            union = np.bitwise_count(a | b).sum(axis=1, dtype=np.int64)
            base = 1 + (100 * inter) // np.maximum(union, 1)
        elif mode == "cross":
            base = np.where(self.newcomer[lo] != self.newcomer[hi], CROSS_BONUS, 1)
        else:
            base = np.ones(len(lo), dtype=np.int64)
        result: Ints = base.astype(np.int64, copy=False)
        return result

    def _hops(self, lo: Ints, hi: Ints) -> Ints:
        """Hops between each pair, capped at FAR, from the talk graph held as sorted arrays."""
        if self._csr is None:
            self._csr = _Csr(len(self.people), self._graph)
        g = self._csr
        n = len(self.people)
        keys = np.minimum(lo, hi) * n + np.maximum(lo, hi)
        hops = np.full(len(lo), FAR, dtype=np.int64)
        within_two = member_of(g.near, keys)
        hops[within_two] = 2
        hops[member_of(g.one, keys)] = 1
        rest = np.flatnonzero(~within_two)
        # Three hops: one of hi's neighbours is within two hops of lo.
        owner, neighbour = g.expand(hi[rest])
        a = lo[rest][owner]
        hit = member_of(g.near, np.minimum(a, neighbour) * n + np.maximum(a, neighbour))
        three = np.bincount(owner, weights=hit, minlength=len(rest)) > 0
        hops[rest[three]] = 3
        return hops

    def candidates(self, seed: int) -> tuple[Ints, Ints]:
        """Each member's best few partners for the mode, as two arrays of indices (lo < hi).

        Partners are ranked by the mode's part of the weight only: the talk graph is sparse, so
        the hops are worked out for the kept pairs alone (a tenth of them)."""
        n = len(self.people)
        k = max(1, min(self.affinity.candidates, n - 1))
        gen = np.random.default_rng(seed)
        found = [_random_others(gen, n, k if self.affinity.mode == "random" else 3)]
        if self.affinity.mode == "interest":
            found.extend(_minhash_neighbours(gen, self.matrix))
        elif self.affinity.mode == "cross":
            found.append(_random_on_side(gen, self.newcomer, k))
        lo, hi = _unique(n, *found)
        if self.affinity.mode == "random":
            return lo, hi
        w = self._bases(lo, hi)
        # Keep each member's k heaviest (ties at the k-th weight kept too): an edge stays when it
        # is that heavy for either end. The k-th weight comes from a histogram of each member's
        # weights, with no sort.
        heaviest = int(w.max()) + 1
        ends, both = np.concatenate([lo, hi]), np.concatenate([w, w])
        hist = np.bincount(ends * heaviest + both, minlength=n * heaviest).reshape(n, heaviest)
        at_least = hist[:, ::-1].cumsum(axis=1)[:, ::-1]  # edges weighing at least v
        kth = (at_least >= k).sum(axis=1) - 1  # -1: fewer than k, keep them all
        keep = (w >= kth[lo]) | (w >= kth[hi])
        return lo[keep], hi[keep]


Ints = npt.NDArray[np.int64]


class _Csr:
    """The talk graph as neighbour arrays, with the sorted keys of pairs one and two hops apart."""

    def __init__(self, n: int, graph: Mapping[int, frozenset[int]]) -> None:
        src = np.array([u for u, vs in graph.items() for _ in vs], dtype=np.int64)
        dst = np.array([v for vs in graph.values() for v in vs], dtype=np.int64)
        both = _sorted_unique(np.concatenate([src * n + dst, dst * n + src]))
        self.src, self.dst = both // n, both % n
        self.indptr = np.concatenate(([0], np.cumsum(np.bincount(self.src, minlength=n))))
        self.one = both[self.src < self.dst]  # already sorted: src * n + dst with src < dst
        # Two hops: any two neighbours of the same member.
        owner, other = self.expand(self.src)
        a, b = self.dst[owner], other
        two = a[a < b] * n + b[a < b]
        self.near = _sorted_unique(np.concatenate([self.one, two]))

    def expand(self, nodes: Ints) -> tuple[Ints, Ints]:
        """Every neighbour of each of ``nodes``: (position in ``nodes``, neighbour)."""
        counts = self.indptr[nodes + 1] - self.indptr[nodes]
        owner = np.repeat(np.arange(len(nodes), dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
        return owner, self.dst[np.repeat(self.indptr[nodes], counts) + within]


def member_of(sorted_keys: Ints, keys: Ints) -> npt.NDArray[np.bool_]:
    """Whether each of ``keys`` is in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    found: npt.NDArray[np.bool_] = sorted_keys[at] == keys
    return found


def _sorted_unique(keys: Ints) -> Ints:
    """``keys`` sorted without repeats (a sort is faster than np.unique's hashing here)."""
    keys = np.sort(keys)
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return keys


def _interest_matrix(people: Sequence[Person]) -> npt.NDArray[np.bool_]:
    """One row per member, one column per interest anyone has."""
    columns = {t: c for c, t in enumerate(sorted({t for p in people for t in p.interests}))}
    matrix = np.zeros((len(people), max(1, len(columns))), dtype=bool)
    for i, p in enumerate(people):
        matrix[i, [columns[t] for t in p.interests]] = True
    return matrix


def _pack(matrix: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint64]:
    """The interest matrix as 64-bit words per member, for popcounts."""
    n, width = matrix.shape
    words = -(-width // 64)
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :width] = matrix
    packed = np.packbits(padded, axis=1, bitorder="little")
    return packed.view(np.uint64).reshape(n, words)


def _unique(n: int, *edges: tuple[Ints, Ints]) -> tuple[Ints, Ints]:
    """Edges without self-loops or duplicates, as (lo, hi) with lo < hi."""
    r = np.concatenate([e[0] for e in edges])
    c = np.concatenate([e[1] for e in edges])
    keep = r != c
    narrow = _narrowest(n * n)  # smaller keys sort faster
    keys = np.sort((np.minimum(r[keep], c[keep]) * n + np.maximum(r[keep], c[keep])).astype(narrow))
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    wide = keys.astype(np.int64)
    return wide // n, wide % n


def _narrowest(top: int) -> type[np.int32] | type[np.int64]:
    """The smallest integer type holding values below ``top``."""
    return np.int32 if top < 2**31 else np.int64


def _minhash_neighbours(
    gen: np.random.Generator,
    matrix: npt.NDArray[np.bool_],
    bands: int = 50,
    rows: int = 2,
    steps: int = 3,
) -> list[tuple[Ints, Ints]]:
    """Members likely to share most interests: neighbours in buckets of MinHash bands."""
    n, width = matrix.shape
    out: list[tuple[Ints, Ints]] = []
    idx = np.arange(n, dtype=np.int64)
    empty = ~matrix.any(axis=1)
    # Each member's interests as a padded list of columns (the pad ranks after every interest).
    most = max(1, int(matrix.sum(axis=1).max()))
    small = np.uint8 if width < 255 else np.int64
    held = np.full((n, most), width, dtype=np.int64)
    rows_of, cols_of = np.nonzero(matrix)
    slot = np.arange(len(rows_of)) - np.searchsorted(rows_of, rows_of)
    held[rows_of, slot] = cols_of
    ranks = np.argsort(gen.random((bands * rows, width)), axis=1).astype(small)
    ranks = np.concatenate([ranks, np.full((bands * rows, 1), width, dtype=small)], axis=1)
    hashes = np.take_along_axis(ranks[:, None, :], held[None, :, :], axis=2).min(axis=2)
    for band in range(bands):
        key = np.zeros(n, dtype=np.int64)
        for h in hashes[band * rows : (band + 1) * rows]:
            key = key * (width + 1) + h.astype(np.int64)
        key[empty] = -1 - idx[empty]  # members with no interest bucket alone
        order = np.lexsort((gen.permutation(n), key))
        sorted_key = key[order]
        for step in range(1, steps + 1):
            same = sorted_key[step:] == sorted_key[:-step]
            out.append((order[step:][same], order[:-step][same]))
    return out


def _random_others(gen: np.random.Generator, n: int, k: int) -> tuple[Ints, Ints]:
    """``k`` random partners per member, never the member itself."""
    own = np.repeat(np.arange(n, dtype=np.int64), k)
    if n < 2:
        return own, own
    shift = gen.integers(1, n, size=n * k, dtype=np.int64)
    return own, (own + shift) % n


def _random_on_side(
    gen: np.random.Generator, side: npt.NDArray[np.bool_], k: int
) -> tuple[Ints, Ints]:
    """``k`` random members of the other side per member (none when a side is empty)."""
    rows: list[Ints] = []
    cols: list[Ints] = []
    for flag in (True, False):
        mine = np.flatnonzero(side == flag)
        theirs = np.flatnonzero(side != flag)
        if len(mine) and len(theirs):
            rows.append(np.repeat(mine, k))
            cols.append(theirs[gen.integers(0, len(theirs), size=len(mine) * k)])
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(rows), np.concatenate(cols)) if rows else (empty, empty)
