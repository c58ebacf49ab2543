"""Schema checks of the fakes, made fast without being made kinder.

The fakes check every request Steward sends and every answer they give against the platforms'
own descriptions with ``jsonschema``. On Discord's message schema that costs about 7 ms a check,
which a join storm pays for every request: the fakes took a third of the benchmark's CPU. A
:class:`Checked` schema keeps ``jsonschema`` as the judge and can ask ``jsonschema-rs`` (the same
JSON Schema drafts, compiled; microseconds a check) first, by ``STEWARD_SANDBOX_VALIDATION``:

- ``full`` (the default, and what tests run): ``jsonschema`` alone, as before (an instance it
  accepted is accepted again without asking: the same JSON, the same verdict);
- ``fast`` (benchmarks): what ``jsonschema-rs`` accepts is accepted; anything it refuses is
  described by ``jsonschema`` (the same messages as ``full``);
- ``both``: ``jsonschema`` judges, and every instance the two judge differently is noted in
  :data:`disagreements` (a test runs storms on both platforms this way and expects none).

A schema ``jsonschema-rs`` cannot compile is checked by ``jsonschema`` alone in every mode.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema.exceptions import ValidationError

log = logging.getLogger("sandbox.schemacheck")
MODE_VARIABLE = "STEWARD_SANDBOX_VALIDATION"
MODES = ("full", "fast", "both")

disagreements: list[str] = []
"""In ``both`` mode: the instances the two judged differently."""
ACCEPTED_KEPT = 2000
"""Accepted instances remembered per schema (``full``): a long run's memory stays bounded."""


def mode() -> str:
    """The validation mode now (``full`` unless the variable names another)."""
    chosen = os.environ.get(MODE_VARIABLE, "full")
    return chosen if chosen in MODES else "full"


class Checked:
    """One schema: ``jsonschema``'s validator, and a compiled twin made when first needed."""

    def __init__(self, slow: Any, compile_fast: Callable[[], Any]) -> None:
        self.slow = slow
        self._compile_fast = compile_fast
        self._fast: Any = None
        self._tried = False
        self._accepted: set[str] = set()  # instances (as JSON) jsonschema accepted

    @property
    def schema(self) -> Any:
        """The schema ``jsonschema`` checks against."""
        return self.slow.schema

    def _fast_validator(self) -> Any:
        if not self._tried:
            self._tried = True
            try:
                self._fast = self._compile_fast()
            except Exception as exc:  # a schema it cannot compile: jsonschema alone
                log.info("jsonschema-rs cannot compile a schema (%s); jsonschema checks it", exc)
        return self._fast

    def _judged(self, instance: Any) -> Iterator[ValidationError]:
        """``jsonschema``'s errors, not asked again for an instance it accepted before: the same
        JSON (Discord's guild and channel answers, a test's welcome, again and again) is
        accepted again. Refused instances are judged each time, to be described."""
        try:
            key = json.dumps(instance, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):  # not JSON as sent: judged each time
            key = None
        if key is not None and key in self._accepted:
            return iter(())
        errors = list(self.slow.iter_errors(instance))
        if not errors and key is not None and len(self._accepted) < ACCEPTED_KEPT:
            self._accepted.add(key)
        return iter(errors)

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """The errors ``jsonschema`` finds (none, without asking it, when ``fast`` and the
        compiled twin accepts the instance)."""
        chosen = mode()
        if chosen == "full":
            return self._judged(instance)
        fast = self._fast_validator()
        if fast is None:
            return self.slow.iter_errors(instance)  # type: ignore[no-any-return]
        if chosen == "fast":
            return iter(()) if fast.is_valid(instance) else self.slow.iter_errors(instance)
        errors = list(self.slow.iter_errors(instance))
        if errors and fast.is_valid(instance):
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "<root>"
            disagreements.append(f"only jsonschema refuses, at {where}: {first.message[:200]}")
        elif not errors and not fast.is_valid(instance):
            disagreements.append(f"only jsonschema-rs refuses {str(instance)[:200]}")
        return iter(errors)


def checked(slow: Any, compile_fast: Callable[[], Any]) -> Checked:
    """``slow`` (a ``jsonschema`` validator) with its compiled twin (made on first need)."""
    return Checked(slow, compile_fast)
