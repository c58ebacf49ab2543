"""Fuzz every parser of untrusted input: ``python -m bench.fuzz [--seconds 60] [--only NAME]``.

Each target (``bench/fuzz/targets.py``) runs in its own process under atheris, coverage-guided,
for ``--seconds``; a per-input time limit (``--timeout``) turns a hang into a finding. Prints one
table (target, seconds, executions, executions a second, crashes, hangs) and, for each finding,
the input file libFuzzer kept and the error. Exits 1 when anything was found. Not part of the
suite: ``tests/test_fuzz.py`` runs the same targets for a moment each.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fuzz.targets import SEEDS, TARGETS

_RUNS = re.compile(r"^#(\d+)\s", re.MULTILINE)
_DONE = re.compile(r"^Done (\d+) runs", re.MULTILINE)
_STUCK = re.compile(r"^Timeout \(\d+:\d\d:\d\d\)!", re.MULTILINE)
"""faulthandler's word that one input ran past the whole run's time (see ``one.py``)."""


@dataclass
class Outcome:
    """What one target's run came to."""

    target: str
    seconds: float
    executions: int
    crashes: int
    hangs: int
    finding: str = ""


def fuzz(name: str, seconds: int, timeout: int, out: Path) -> Outcome:
    """Run one target under atheris for ``seconds``; read libFuzzer's report."""
    corpus = out / f"corpus-{name}"
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(SEEDS[name]):
        (corpus / f"seed-{i}").write_bytes(seed)
    command = [
        sys.executable, "-m", "bench.fuzz.one", name,
        f"-max_total_time={seconds}", f"-timeout={timeout}", "-rss_limit_mb=2048",
        "-print_final_stats=1", "-max_len=8192", f"-artifact_prefix={out}/{name}-", str(corpus),
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + timeout + 300, check=False
        )
        log, code = done.stderr + done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:  # a hang libFuzzer could not stop (one C call)
        err = exc.stderr or b""
        log, code = err.decode("utf-8", "replace") if isinstance(err, bytes) else err, -1
    took = time.monotonic() - started
    (out / f"{name}.log").write_text(log)
    runs = [int(n) for n in _DONE.findall(log) or _RUNS.findall(log)]
    executions = max(runs, default=0)
    hang = code == -1 or "libFuzzer: timeout" in log or _STUCK.search(log) is not None
    crash = code != 0 and not hang
    finding = ""
    if crash or hang:
        lines = [ln for ln in log.splitlines() if ln.strip()]
        error = next((ln for ln in lines if "Error" in ln or "Exception" in ln), "")
        if hang and not error:  # the innermost Steward frame faulthandler printed
            ours = ("/bot/", "/cogs/")
            frames = [ln for ln in lines if "File" in ln and any(p in ln for p in ours)]
            error = "stuck in " + (frames[0].strip() if frames else "an input past --timeout")
        kept = re.search(r"Test unit written to (\S+)", log)
        finding = f"{name}: {error.strip()[:200]} (input: {kept.group(1) if kept else '?'})"
    return Outcome(name, took, executions, int(crash), int(hang), finding)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--only", action="append", choices=sorted(TARGETS), help="a target")
    parser.add_argument("--out", type=Path, help="where inputs and logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="steward-fuzz-"))
    out.mkdir(parents=True, exist_ok=True)
    names = args.only or list(TARGETS)
    outcomes = []
    for name in names:
        outcomes.append(fuzz(name, args.seconds, args.timeout, out))
        print(f"... {name}: {outcomes[-1].executions} executions", file=sys.stderr, flush=True)
    header = ("target", "seconds", "executions", "exec/s", "crashes", "hangs")
    rows = [
        (o.target, f"{o.seconds:.0f}", str(o.executions),
         f"{o.executions / max(o.seconds, 1e-9):.0f}", str(o.crashes), str(o.hangs))
        for o in outcomes
    ]  # fmt: skip
    total = (sum(o.seconds for o in outcomes), sum(o.executions for o in outcomes))
    crashes, hangs = sum(o.crashes for o in outcomes), sum(o.hangs for o in outcomes)
    rows.append(("total", f"{total[0]:.0f}", str(total[1]), "", str(crashes), str(hangs)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        rest = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in rest]
        print("  ".join(cells))
    findings = [o.finding for o in outcomes if o.finding]
    for finding in findings:
        print(finding)
    print(f"inputs and logs: {out}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
