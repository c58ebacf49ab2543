"""One fuzz target under atheris (libFuzzer): ``python -m bench.fuzz.one NAME [libFuzzer flags]``.

The runner (``python -m bench.fuzz``) starts this once per target. Steward's own modules are
instrumented for coverage as they are imported; the seeds are run first, inside the
instrumenting block, so that the modules a target imports lazily are instrumented too.
"""

from __future__ import annotations

import faulthandler
import sys

import atheris


def main() -> None:
    """Fuzz the named target until libFuzzer's limits stop it (or it finds a crash)."""
    name, flags = sys.argv[1], sys.argv[2:]
    with atheris.instrument_imports(include=["bot", "cogs"]):
        from bench.fuzz.targets import SEEDS, TARGETS

        target = TARGETS[name]
        for seed in SEEDS[name]:
            target(seed)
    atheris.Setup([sys.argv[0], *flags], target)
    # libFuzzer's -timeout cannot stop one long C call (a regular expression backtracking holds
    # the interpreter): past the run's time and then some, faulthandler prints where every
    # thread is and exits, so the runner reports the hang and where it was.
    limits = dict(f[1:].split("=", 1) for f in flags if f.startswith("-") and "=" in f)
    total = int(limits.get("max_total_time", "0") or 0)
    if total:
        faulthandler.dump_traceback_later(total + 2 * int(limits.get("timeout", "10")), exit=True)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
