"""Which Web API methods the bot used, gathered across tests and written once per session."""

from __future__ import annotations

from pathlib import Path

from .specs import repo_root


class MethodLog:
    """A set of Web API method names; several fakes (and several conftests) may share one."""

    def __init__(self) -> None:
        self.methods: set[str] = set()

    def add(self, method: str) -> None:
        """Record one method name."""
        self.methods.add(method)

    def write(self, path: Path | None = None) -> Path:
        """Write the sorted method names, one a line, and return the path."""
        target = path or default_artifact()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{m}\n" for m in sorted(self.methods)))
        return target


def default_artifact() -> Path:
    """artifacts/slack-methods.txt under the repository root (git-ignored)."""
    return repo_root() / "artifacts" / "slack-methods.txt"


SESSION_LOG = MethodLog()
"""The process-wide log: conftests pass it to FakeSlack and write it at session end."""
