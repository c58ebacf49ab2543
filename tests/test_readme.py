"""The README's examples work as written."""

from __future__ import annotations

import re
from pathlib import Path

from bot.features import load
from sandbox.demo import run
from tests.conftest import ROOT, shared_dir


def _rehearsal() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```text\n(# rehearsal\.txt.*?)```", readme, re.DOTALL)
    assert found, "the README's rehearsal example is missing"
    return found.group(1).splitlines()


async def test_the_readme_rehearsal_plays_cleanly_on_both_platforms(tmp_path: Path) -> None:
    shared_dir()
    lines: list[str] = []
    code = await run(
        f"sqlite:///{tmp_path / 'sandbox.db'}", load(["all"]), _rehearsal(), lines.append
    )
    violations = [line for line in lines if "spec violation:" in line]
    assert violations == [], "\n".join(violations)  # every request checked against the specs
    assert code == 0
    problems = [line for line in lines if re.match(r"^\[\w+\] line \d+:", line)]
    assert problems == []
    for platform in ("discord", "slack"):
        assert f"[{platform}] only ada sees: steward `timezone` is now Europe/Paris." in lines
        assert f"[{platform}] nina joined" in lines
        assert f"[{platform}] only nina sees: Got it! Your interests: python." in lines
    assert "[slack]   Welcome @nina!" in lines
