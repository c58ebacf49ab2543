"""Locate and load Slack's official API descriptions, which live outside the repository.

The descriptions are never copied into the project. They are found in
``$STEWARD_SHARED_DIR/specs/slack``
when that variable is set, else in ``<repo root>/../shared/specs/slack``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

WEB_API_FILE = "slack_web_openapi_v2_without_examples.json"
EVENTS_API_FILE = "slack_events_api_async_v1.json"
EVENT_WRAPPER_FILE = "slack_common_event_wrapper_schema.json"
_REQUIRED = (WEB_API_FILE, EVENTS_API_FILE, EVENT_WRAPPER_FILE)


class SpecsNotFound(RuntimeError):
    """Slack's API descriptions are not where Steward expects them."""


def repo_root() -> Path:
    """Return the repository root (the directory holding pyproject.toml)."""
    return Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    """Return the directory that should hold Slack's API descriptions (it may not exist)."""
    shared = os.environ.get("STEWARD_SHARED_DIR")
    base = Path(shared) if shared else repo_root().parent / "shared"
    return base / "specs" / "slack"


def missing_reason() -> str | None:
    """Explain why the descriptions cannot be used, or return None when they are all present."""
    where = specs_dir()
    missing = [name for name in _REQUIRED if not (where / name).is_file()]
    if not missing:
        return None
    return (
        f"Slack API descriptions not found in {where} (missing: {', '.join(missing)}); "
        "set STEWARD_SHARED_DIR to the directory that holds specs/slack/"
    )


@dataclass(frozen=True, slots=True, eq=False)
class SlackSpecs:
    """The parsed Web API (Swagger 2), Events API (AsyncAPI 1) and event wrapper documents."""

    web: dict[str, Any]
    events: dict[str, Any]
    wrapper: dict[str, Any]
    directory: Path


@lru_cache(maxsize=4)
def _load(directory: Path) -> SlackSpecs:
    def read(name: str) -> dict[str, Any]:
        with (directory / name).open(encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
        return data

    return SlackSpecs(
        web=read(WEB_API_FILE),
        events=read(EVENTS_API_FILE),
        wrapper=read(EVENT_WRAPPER_FILE),
        directory=directory,
    )


def load_specs() -> SlackSpecs:
    """Parse the descriptions once per process; raise SpecsNotFound when they are absent."""
    reason = missing_reason()
    if reason is not None:
        raise SpecsNotFound(reason)
    return _load(specs_dir())
