"""Run every benchmark and print one table: ``python -m bench.run [--only NAME] [--n N]``.

A benchmark is a module of this folder, listed in BENCHMARKS, with
``run(n=default) -> list[bench._common.Row]``: benchmark, variant, n, p50 and p99 in ms and the
ratios against the module's own baseline, measured in the same run. Benchmarks are never part of the
test suite: timings on shared machines make flaky tests.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BENCHMARKS = [
    "discord_roundtrip",
    "slack_roundtrip",
    "onboarding_joinstorm",
    "engagement_ingest",
    "engagement_reports",
    "automod_screen",
]
"""Module names under bench/, run in this order."""


def _ms(value: float) -> str:
    """Milliseconds with two decimals, or four below 1 ms (per-event costs of a few µs)."""
    return f"{value:.4f}" if 0 < value < 1 else f"{value:.2f}"


def print_table(rows: Sequence[Any]) -> None:
    """Print rows as an aligned table."""
    header = ("benchmark", "variant", "n", "p50 ms", "p99 ms", "ratio p50", "ratio p99")
    lines = [header]
    for r in rows:
        lines.append(
            (
                r.benchmark,
                r.variant,
                str(r.n),
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                f"{r.ratio_p50:.2f}",
                f"{r.ratio_p99:.2f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--only", action="append", choices=BENCHMARKS)
    parser.add_argument(
        "--n", type=int, default=None, help="size for every benchmark (default: each one's own)"
    )
    args = parser.parse_args(argv)
    rows: list[Any] = []
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        rows.extend(module.run(args.n) if args.n else module.run())
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
