"""The engagement writer process (``python -m bot.writer``) hides the database password in its
log, whatever logs it: its composition root installs the secret filter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cogs.engagement._writer import ROOT, frame

SECRET = "Hunter2-writer-secret"

# A library that logs the URL it was given, as a line and inside a traceback, loaded into the
# real writer process through sitecustomize (as a third-party module would be).
CARELESS = textwrap.dedent(
    """
    import logging

    import bot.db.engine as engine

    _init = engine.Database.__init__


    def _careless(self, url):
        _init(self, url)
        careless = logging.getLogger("a.careless.library")
        careless.warning("connecting to %s", url)
        try:
            raise RuntimeError(f"could not open {url}")
        except RuntimeError:
            careless.exception("opening failed")


    engine.Database.__init__ = _careless
    """
)


def test_the_writer_process_never_logs_the_database_password(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(CARELESS)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    # Nothing listens on port 1: the writer also logs that it can't reach the database.
    url = f"postgresql://steward:{SECRET}@127.0.0.1:1/steward"
    done = subprocess.run(
        [sys.executable, "-m", "bot.writer"],
        input=frame(("hello", url)) + frame(("stop",)),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    log = done.stderr.decode()
    assert done.returncode == 0, log
    # The lines were logged (with their traceback), the password in none of them.
    assert "connecting to postgresql://steward:[redacted]@127.0.0.1:1/steward" in log
    assert "RuntimeError: could not open" in log
    assert "can't reach the database yet" in log
    assert SECRET not in log
    assert SECRET.encode() not in done.stdout
