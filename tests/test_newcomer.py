"""A newcomer's first commands, run as they would run them: a process, a plain directory, no
../shared beside the clone, and config.example.env copied to .env as the README says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # real processes, or long rehearsals: started first


def steward(
    cwd: Path, *args: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in ``cwd`` with no STEWARD_* variables and no ../shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    nowhere = cwd / "no-shared-here"
    nowhere.mkdir(exist_ok=True)
    env["STEWARD_SHARED_DIR"] = str(nowhere)  # as in a plain clone: no specs, no data files
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_quickstart_runs_in_a_plain_clone_without_shared(tmp_path: Path) -> None:
    done = steward(tmp_path, "run", stdin="ada runs /steward features\n")
    assert done.returncode == 0, done.stderr
    assert "no platform is configured" in done.stdout
    for platform in ("discord", "slack"):
        assert f"[{platform}] only ada sees: Features" in done.stdout
    assert "Traceback" not in done.stderr
    assert "Unclosed" not in done.stderr


def test_a_sandbox_script_runs_without_shared(tmp_path: Path) -> None:
    script = tmp_path / "rehearsal.txt"
    script.write_text("nina joins\nnina runs /onboarding me\n", encoding="utf-8")
    done = steward(tmp_path, "sandbox", "--script", str(script))
    assert done.returncode == 0, done.stdout + done.stderr
    for platform in ("discord", "slack"):
        assert f"[{platform}] nina joined" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_example_config_copied_as_is_works(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.example.env", tmp_path / ".env")
    migrated = steward(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Database is up to date" in migrated.stdout
    doctor = steward(tmp_path, "doctor")
    assert "Configuration problem" not in doctor.stdout + doctor.stderr
    assert "[ok] schema is up to date" in doctor.stdout
    assert "[!!] platforms: none configured" in doctor.stdout
    assert doctor.returncode == 1  # nothing to serve yet, said in plain words
    ran = steward(tmp_path, "run", stdin="ada runs /steward features\n")
    assert ran.returncode == 0, ran.stderr
    assert "[slack] only ada sees: Features" in ran.stdout


def test_an_unreachable_discord_ends_run_with_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    import base64

    token = base64.b64encode(b"1234567890123456789").decode().rstrip("=") + ".GhIjKl.secret"
    (tmp_path / ".env").write_text(
        f"STEWARD_DISCORD_TOKEN={token}\nSTEWARD_DISCORD_API_BASE=http://127.0.0.1:9/api/v10\n"
    )
    done = steward(tmp_path, "run")
    assert done.returncode == 2, done.stderr
    assert "cannot reach Discord at 127.0.0.1" in done.stderr
    for noise in ("Traceback", "Unclosed", "BrokenPipeError", "voice will NOT be supported"):
        assert noise not in done.stderr, done.stderr


def test_a_typo_at_the_prompt_is_explained_and_the_sandbox_goes_on(tmp_path: Path) -> None:
    done = steward(tmp_path, "sandbox", stdin="on mars\nbob dances\nada runs /steward features\n")
    assert done.returncode == 0, done.stderr
    assert "there is no 'mars' here; 'on' takes discord, slack or both" in done.stdout
    assert "I don't know how to 'dances'" in done.stdout
    assert "[slack] only ada sees: Features" in done.stdout
    assert "Traceback" not in done.stderr


def test_ctrl_c_leaves_the_sandbox_quietly(tmp_path: Path) -> None:
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    box = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    assert box.stdin is not None and box.stdout is not None
    box.stdin.write("ada runs /steward features\n")
    box.stdin.flush()
    deadline = time.monotonic() + 60
    while "[slack] only ada sees" not in (line := box.stdout.readline()):
        assert line and time.monotonic() < deadline, "the sandbox never answered"
    os.killpg(box.pid, signal.SIGINT)  # Ctrl+C reaches the whole group, the writer too
    _, err = box.communicate(timeout=30)
    assert box.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


KEPT_FIRST = """\
ada runs /onboarding rules set Be kind.
ada runs /steward settings set onboarding welcome_channel #welcome
ada runs /steward settings set steward moderator_role @mods
bob gets @mods
nina joins
wait 2 days
"""
KEPT_NEXT = """\
zed joins
nina says Hello again
ada runs /onboarding status @nina
bob runs /engagement unanswered
"""


def test_a_kept_sandbox_goes_on_where_the_last_one_stopped(tmp_path: Path) -> None:
    (tmp_path / "first.txt").write_text(KEPT_FIRST, encoding="utf-8")
    (tmp_path / "next.txt").write_text(KEPT_NEXT, encoding="utf-8")
    first = steward(tmp_path, "sandbox", "--script", "first.txt")
    assert first.returncode == 0, first.stdout + first.stderr
    kept = steward(tmp_path, "sandbox", "--keep", "--script", "next.txt")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    out = kept.stdout
    assert out.startswith("Going on from the kept sandbox: it is Wed Jan 07 09:00 UTC"), out
    for platform in ("discord", "slack"):
        # A newcomer gets ids of their own: welcomed, not mistaken for nina.
        assert f"[{platform}] zed gets a DM: Welcome to our community, @zed!" in out, out
        # nina is still here, with her record; bob still has @mods; the settings held.
        assert f"[{platform}] nina in #general: Hello again" in out
        status = out.split(f"[{platform}] only ada sees: nina's onboarding", 1)[1]
        assert status.split("\n")[1:9:7] == ["joined: 2026-01-05 09:00 UTC", "nudges sent: rules"]
        assert f"[{platform}] only bob sees: No open questions." in out
    # Without --keep the next sandbox starts fresh again.
    fresh = steward(tmp_path, "sandbox", "--script", "next.txt")
    assert fresh.returncode == 1 and "nobody called nina here" in fresh.stdout
