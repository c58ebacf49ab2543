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


def _bootstrap() -> None:
    """Create .venv and install Steward into it when missing or out of date, then re-exec."""
    if not (ROOT / "pyproject.toml").exists() or os.environ.get("STEWARD_NO_BOOTSTRAP"):
        return
    python = _venv_python()
    inside = Path(sys.prefix).resolve() == VENV.resolve()
    if inside and STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not python.exists():
        print("steward: creating a virtual environment in .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != _fingerprint():
        print("steward: installing dependencies (first run only) ...", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"], check=True
        )
        STAMP.write_text(_fingerprint())
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), "-m", "bot", *sys.argv[1:]])


if __name__ == "__main__":
    _bootstrap()
    from bot.cli import main

    sys.exit(main())
