"""One fuzz target under atheris (libFuzzer): ``python -m bench.fuzz.one NAME [libFuzzer flags]``.

The runner (``python -m bench.fuzz``) starts this once per target. Steward's own modules are
instrumented for coverage as they are imported; the seeds are run first, inside the
instrumenting block, so that the modules a target imports lazily are instrumented too.
"""

from __future__ import annotations

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
    atheris.Fuzz()


if __name__ == "__main__":
    main()
