"""Introductions: one round of pairing for 10,001 members against a random shuffle and networkx.

``python -m bench.pairing [--n 10001] [--sample 2001] [--repeat 5]``

The community: every member has 3 to 8 of 60 interests, 8 earlier rounds of history (random
pairs), a do-not-pair list (one member in twenty keeps one private entry, and the moderators keep
n/50 pairs) and a who-talked-to-whom graph (each member talked with three others). The count is
odd, so a trio is needed. The round runs in interest mode: weight = (1 + ⌊100·Jaccard⌋) × hops
apart in the talk graph (capped at 4), the weights `make_groups` itself maximises.

Rows: ``ms`` is the median wall time over ``--repeat`` runs and ``cpu ms`` the median CPU time
of this process, which other jobs on a shared machine disturb less; ``weight`` sums one pair per
group (a trio counts its heaviest pair only, so the odd member is not a bonus the matching cannot
get);
``of max`` is that total over networkx's maximum-weight matching (``maxcardinality=True``) on the
same weights. The exact matching runs on the sample only: on 10,000 members even its sparse
top-15 graph took 291 s in performance-study.md section 4, and the complete graph is ~50M edges.
The matching's graph is each member's 15 heaviest allowed partners, computed exactly.
Goals at full size: ≤ 1000 ms, ≥ 0.97 of max (measured on the sample), 0 repeats, 0 blocked,
mean affinity ≥ 8 × random's.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from cogs.introductions._matching import Group, make_groups  # noqa: E402
from cogs.introductions._weights import Affinity, Person, Weigher  # noqa: E402

Pairs = set[frozenset[str]]


@dataclass(frozen=True)
class Community:
    """A pool with its history, do-not-pair lists and talk graph."""

    people: list[Person]
    history: Pairs
    blocked: Pairs
    affinity: Affinity


def community(n: int, seed: int) -> Community:
    """``n`` opted-in members with interests, 8 rounds of history, blocks and a talk graph."""
    rng = random.Random(seed)
    people = [
        Person(f"u{i}", frozenset(rng.sample(range(60), rng.randint(3, 8)))) for i in range(n)
    ]
    ids = [p.user_id for p in people]
    history: Pairs = set()
    for _ in range(8):
        shuffled = ids[:]
        rng.shuffle(shuffled)
        history.update(frozenset(shuffled[i : i + 2]) for i in range(0, n - 1, 2))
    blocked = {frozenset(rng.sample(ids, 2)) for _ in range(n // 20 + n // 50)}
    talked: dict[str, set[str]] = {u: set() for u in ids}
    for u in ids:
        for v in rng.sample(ids, 3):
            if v != u:
                talked[u].add(v)
                talked[v].add(u)
    graph = {u: frozenset(vs) for u, vs in talked.items()}
    return Community(people, history, blocked, Affinity("interest", talked=graph))


def shuffle_groups(c: Community, rng: random.Random) -> list[Group]:
    """The quality floor: a plain shuffle cut into pairs, the odd one out joining the last pair."""
    ids = [p.user_id for p in c.people]
    rng.shuffle(ids)
    groups: list[Group] = [tuple(ids[i : i + 2]) for i in range(0, len(ids) - 1, 2)]
    if len(ids) % 2:
        groups[-1] = (*groups[-1], ids[-1])
    return groups


def matching_groups(c: Community, _: random.Random) -> list[Group]:
    """The quality ceiling: networkx's maximum-weight matching over each member's top 15."""
    weigher = Weigher(c.people, c.affinity)
    n = len(c.people)
    every = np.array(list(itertools.combinations(range(n), 2)), dtype=np.int64)
    lo, hi = every[:, 0], every[:, 1]
    weights = weigher.weights(lo, hi)
    index = weigher.index
    avoid = {
        min(index[a], index[b]) * n + max(index[a], index[b]) for a, b in c.history | c.blocked
    }
    allowed = ~np.isin(lo * n + hi, np.fromiter(avoid, np.int64))
    full = np.zeros((n, n), dtype=np.int64)
    full[lo[allowed], hi[allowed]] = weights[allowed]
    full = full + full.T
    graph: nx.Graph[int] = nx.Graph()
    for i in range(n):
        for j in np.argpartition(-full[i], 15)[:15]:
            if full[i, j] > 0:
                graph.add_edge(i, int(j), weight=int(full[i, j]))
    matched = nx.max_weight_matching(graph, maxcardinality=True)
    return [(c.people[a].user_id, c.people[b].user_id) for a, b in matched]


def steward_groups(c: Community, rng: random.Random) -> list[Group]:
    """Steward's matcher."""
    return make_groups(c.people, c.history, c.blocked, c.affinity, rng)


def measure(
    name: str, c: Community, form: Callable[[Community, random.Random], list[Group]], repeat: int
) -> dict[str, object]:
    """Time ``form`` and judge its last round: weight, mean affinity, repeats, blocked pairs."""
    times: list[float] = []
    cpu: list[float] = []
    groups: list[Group] = []
    for r in range(repeat):
        rng = random.Random(r)
        start, start_cpu = time.perf_counter(), time.process_time()
        groups = form(c, rng)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    weigher = Weigher(c.people, c.affinity)
    ix = weigher.index

    def w(a: str, b: str) -> int:
        return weigher.weight(ix[a], ix[b])

    best = [max(w(a, b) for a, b in itertools.combinations(g, 2)) for g in groups]
    met = {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    placed = sum(len(g) for g in groups)
    return {
        "variant": name,
        "n": len(c.people),
        "placed": placed,
        "ms": statistics.median(times) * 1000,
        "cpu ms": statistics.median(cpu) * 1000,
        "weight": sum(best),
        "mean": sum(best) / max(1, len(best)),
        "repeats": len(met & c.history),
        "blocked": len(met & c.blocked),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the three variants at full size and on the sample; print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench.pairing")
    parser.add_argument("--n", type=int, default=10_001)
    parser.add_argument("--sample", type=int, default=2_001)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for size, variants in (
        (args.n, [("random shuffle", shuffle_groups), ("steward", steward_groups)]),
        (
            args.sample,
            [
                ("random shuffle", shuffle_groups),
                ("steward", steward_groups),
                ("networkx max_weight_matching", matching_groups),
            ],
        ),
    ):
        c = community(size, seed=size)
        measured = [
            measure(name, c, form, 1 if form is matching_groups else args.repeat)
            for name, form in variants
        ]
        floor = measured[0]["mean"]
        ceiling = measured[-1]["weight"] if variants[-1][1] is matching_groups else None
        for m in measured:
            m["x random"] = float(m["mean"]) / float(floor)  # type: ignore[arg-type]
            m["of max"] = float(m["weight"]) / float(ceiling) if ceiling else None  # type: ignore[arg-type]
        rows.extend(measured)
    header = ["variant", "n", "placed", "ms", "cpu ms", "weight", "of max", "mean", "x random"]
    header += ["repeats", "blocked"]
    cells = [header]
    for m in rows:
        cells.append([_cell(m[h]) for h in header])
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for i, line in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def _cell(value: object) -> str:
    """A table cell: floats with two or three decimals, absent values as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
