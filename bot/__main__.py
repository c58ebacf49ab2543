"""``python -m bot``: sets itself up on first use (virtual environment, install), then runs.

Uses only the standard library until the project's own virtual environment is ready, so it
works on a fresh machine with nothing but Python 3.11 and git.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
STAMP = VENV / ".steward-installed"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _wanted() -> str:
    """What this run needs installed: the runtime, plus the dev tools for the test command."""
    return "dev" if os.environ.get("STEWARD_INSTALL_DEV") else "run"


def _installed() -> str | None:
    """What the stamp says is installed for this pyproject.toml ("run" or "dev"), or None."""
    if not STAMP.exists():
        return None
    fingerprint, _, extras = STAMP.read_text().partition(" ")
    return (extras or "dev") if fingerprint == _fingerprint() else None


def _up_to_date() -> bool:
    installed = _installed()
    return installed == "dev" or installed == _wanted()


def _bootstrap() -> None:
    """Create .venv and install Steward into it when missing or out of date, then re-exec.

    ``steward run`` needs only the runtime dependencies; ``.ci/test`` sets STEWARD_INSTALL_DEV
    so the test tools (pytest, ruff, mypy) come too.
    """
    if not (ROOT / "pyproject.toml").exists() or os.environ.get("STEWARD_NO_BOOTSTRAP"):
        return
    python = _venv_python()
    inside = Path(sys.prefix).resolve() == VENV.resolve()
    if inside and _up_to_date():
        return
    if not python.exists():
        print("steward: creating a virtual environment in .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not _up_to_date():
        wanted = _wanted()
        target = f"{ROOT}[dev]" if wanted == "dev" else str(ROOT)
        what = "dependencies and test tools" if wanted == "dev" else "dependencies"
        print(f"steward: installing {what} (first run only) ...", file=sys.stderr)
        quiet = ["-qq", "--disable-pip-version-check"]  # errors still show
        subprocess.run(
            [str(python), "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True
        )
        subprocess.run([str(python), "-m", "pip", "install", *quiet, "-e", target], check=True)
        STAMP.write_text(f"{_fingerprint()} {wanted}")
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), "-m", "bot", *sys.argv[1:]])


if __name__ == "__main__":
    _bootstrap()
    from bot.cli import main

    sys.exit(main())
