"""``steward`` finds the subcommands installed packages add: the sandbox adds its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.cli import main
from sandbox.cli import database_url
from tests.conftest import ROOT


def test_bot_never_imports_the_sandbox() -> None:
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "sandbox" for n in names), path


def test_the_sandbox_adds_its_command_through_an_entry_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["sandbox", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--script" in out and "--keep" in out and "--database" in out


def test_the_sandbox_starts_fresh_unless_kept(tmp_path: Path) -> None:
    old = tmp_path / "box.db"
    old.write_text("what the last sandbox stored")
    assert database_url(str(old), keep=True) == f"sqlite+aiosqlite:///{old}"
    assert old.exists()
    assert database_url(str(old), keep=False) == f"sqlite+aiosqlite:///{old}"
    assert not old.exists()
    assert database_url("postgresql://u@h/db", keep=False) == "postgresql://u@h/db"
