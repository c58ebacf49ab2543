"""What every benchmark shares: the table row and percentiles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the table: a variant's latency percentiles and its ratio to the baseline."""

    benchmark: str
    variant: str
    n: int
    p50_ms: float
    p99_ms: float
    ratio_p50: float
    ratio_p99: float


def percentile_ms(seconds: list[float], q: float) -> float:
    """The ``q`` quantile of durations in seconds, in milliseconds (nan when there are none)."""
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
