"""``python -m tools.mutation``: mutation testing of the pure policy and parsing modules.

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) changes the modules one small edit
at a time and runs their unit tests against each change; a change no test notices "survives".
This prints, per module, how many were killed and the share overall. Two workers by default,
for a shared 2-core machine: ``--workers N`` to change it. Exit 1 below ``--goal`` (90%).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout"}  # a change that makes the tests hang is noticed too


def _mutmut(*args: str) -> str:
    exe = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    done = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
        raise SystemExit(f"mutmut {args[0]} failed ({done.returncode})")
    return done.stdout


def tally(listing: str) -> dict[str, Counter[str]]:
    """Per module, the count of each outcome, from ``mutmut results --all true``."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if "__mutmut_" not in name:
            continue
        found[name.split(".x", 1)[0]][status.strip()] += 1  # module.x_function__mutmut_N
    return found


def main(argv: list[str] | None = None) -> int:
    """Run mutmut over the configured modules and print the share of killed mutants."""
    parser = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--goal", type=float, default=90.0)
    parser.add_argument("--keep", action="store_true", help="reuse results of an earlier run")
    args = parser.parse_args(argv)
    if not args.keep:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    print(f"mutmut: running with {args.workers} workers (a few minutes)...", flush=True)
    _mutmut("run", "--max-children", str(args.workers))
    found = tally(_mutmut("results", "--all", "true"))
    total, killed = Counter[str](), 0
    heads = ("mutants", "killed", "survived", "untested", "share")
    print(f"{'module':34} " + " ".join(f"{h:>9}" for h in heads))
    for module in sorted(found):
        counts = found[module]
        n, k = sum(counts.values()), sum(counts[s] for s in KILLED)
        untested = counts["no tests"]
        print(f"{module:34} {n:9} {k:9} {counts['survived']:9} {untested:9} {100 * k / n:8.1f}%")
        total.update(counts)
        killed += k
    n = sum(total.values())
    share = 100 * killed / n if n else 0.0
    print(f"{'all':34} {n:9} {killed:9} {total['survived']:9} {total['no tests']:9} {share:8.1f}%")
    print("survivors: `mutmut results`, one with `mutmut show <name>`")
    return 0 if share >= args.goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
