"""Which Discord operations the tests exercised, collected across fakes in one process."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class OperationLog:
    """A set of operationIds used; any number of fakes may share one log."""

    def __init__(self) -> None:
        self.operations: set[str] = set()

    def add_all(self, operation_ids: Iterable[str]) -> None:
        """Add operationIds to the log."""
        self.operations.update(operation_ids)

    def write(self, path: Path) -> Path:
        """Write the sorted operationIds, one per line, creating parent directories."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{op}\n" for op in sorted(self.operations)), encoding="utf-8")
        return path


_DEFAULT = OperationLog()


def default_operation_log() -> OperationLog:
    """Return the process-wide log that fakes use unless given another."""
    return _DEFAULT
