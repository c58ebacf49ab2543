"""``steward sandbox --script``: a manager rehearses, and sees what each person saw."""

from __future__ import annotations

from pathlib import Path

from bot.builtin import Steward
from sandbox.demo import run
from sandbox.script import ScriptError, parse
from tests.adapters.desk import Desk
from tests.conftest import shared_dir

SCRIPT = """\
# a rehearsal
ada runs /steward features desk off
alice runs /desk ask
ada runs /steward features desk on
nina joins
alice runs /desk ask
bob clicks yes
bob picks red, blue in pick
alice runs /desk feedback
alice fills text=Lovely bot
on slack
alice says Hello @bob in #intros
show #intros
alice runs /steward settings show desk
"""


async def test_script_plays_on_both_platforms(tmp_path: Path) -> None:
    shared_dir()
    lines: list[str] = []
    code = await run(
        f"sqlite:///{tmp_path / 'sandbox.db'}",
        [Steward(), Desk()],
        SCRIPT.splitlines(),
        lines.append,
    )
    violations = [line for line in lines if "spec violation:" in line]
    assert violations == [], "\n".join(violations)  # every request checked against the specs
    assert code == 0
    for platform in ("discord", "slack"):
        mine = [line for line in lines if line.startswith(f"[{platform}]")]
        assert f"[{platform}] only ada sees: desk is now off in this community." in mine
        assert any(
            line.startswith(f"[{platform}] only alice sees: The desk feature is switched off")
            for line in mine
        )
        assert f"[{platform}] nina gets a DM: Welcome, nina!" in mine
        assert f"[{platform}] everyone sees: Do you like it?" in mine
        assert f"[{platform}] only bob sees: You pressed yes (1)" in mine
        assert f"[{platform}] only bob sees: You picked red, blue" in mine
        assert f"[{platform}] alice sees a form: Feedback" in mine
        assert f"[{platform}] only alice sees: Thanks for: Lovely bot" in mine
    slack_only = [line for line in lines if "#intros" in line or "Hello @bob" in line]
    assert slack_only == [
        "[slack] alice in #intros: Hello @bob",
        "[slack] #intros: 1 messages",
        "[slack]   Hello @bob",
    ]
    assert (
        "[slack] only alice sees: Sorry, you need to be an admin to use /steward settings show."
        in lines
    )


def test_a_line_it_cannot_read_is_named() -> None:
    try:
        parse(["ada runs /steward help", "bob dances"])
    except ScriptError as exc:
        assert str(exc) == (
            "line 2: I don't know how to 'dances'. "
            "Use joins, says, runs, clicks, picks, fills, wait, show or on."
        )
    else:
        raise AssertionError("the bad line was accepted")
