"""What every benchmark shares: the table row and percentiles."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

PG_URL = os.environ.get("STEWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server benchmarks make their databases on."""


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


async def fresh_pg_database(name: str) -> str | None:
    """A fresh, empty PostgreSQL database on ``PG_URL``'s server, or None when none answers."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        conn = await asyncpg.connect(PG_URL)
    except Exception:
        return None
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return PG_URL.rpartition("/")[0] + "/" + name


async def drop_pg_database(name: str) -> None:
    """Drop a database :func:`fresh_pg_database` made (its connections closed by force)."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, a rule under the header."""
    lines = [list(header), *(list(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
