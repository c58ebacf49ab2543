"""``steward sandbox --script``: a manager rehearses, and sees what each person saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.builtin import Steward
from sandbox.demo import run
from sandbox.script import ScriptError, parse
from tests.adapters.desk import Desk
from tests.conftest import shared_dir

pytestmark = pytest.mark.slow  # real processes, or long rehearsals: started first

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
        "[slack] #intros: 1 message",
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
            "Use joins, says, replies, reacts, starts, deletes, leaves, runs, clicks, picks, "
            "fills, gets, loses, wait, show or on."
        )
    else:
        raise AssertionError("the bad line was accepted")


async def _play(tmp_path: Path, script: str, db: str = "sandbox.db") -> tuple[int, list[str]]:
    from bot.features import load

    lines: list[str] = []
    code = await run(
        f"sqlite:///{tmp_path / db}",
        load(["all"]),
        script.splitlines(),
        lines.append,
        tmp_path / "files",
    )
    return code, lines


async def test_a_long_script_runs_to_the_end_on_both_platforms(tmp_path: Path) -> None:
    # discord.py sends at most 120 gateway frames a minute: settling must not spend them (more
    # lines than that would then wait a minute for the budget).
    script = "\n".join(f"alice says Hello number {n} in #general" for n in range(1, 151))
    code, lines = await _play(tmp_path, script)
    assert code == 0
    assert "[discord] alice in #general: Hello number 150" in lines
    assert "[slack] alice in #general: Hello number 150" in lines


WAITS = """\
ada runs /onboarding rules set Be kind.
nina joins
wait 13 hours
wait 12 hours
wait 1 week
"""


async def test_a_wait_passes_once_for_both_platforms_and_shows_what_people_got(
    tmp_path: Path,
) -> None:
    code, lines = await _play(tmp_path, WAITS)
    assert code == 0
    reminder = "nina gets a DM: A gentle reminder: please read the rules"
    for platform in ("discord", "slack"):
        first = lines.index(f"[{platform}] 13 hours pass")
        second = lines.index(f"[{platform}] 12 hours pass")
        after = lines.index(f"[{platform}] 1 week passes")
        mine = [i for i, line in enumerate(lines) if line.startswith(f"[{platform}] {reminder}")]
        assert mine and first < second < mine[0] < after, (platform, lines)


async def test_a_script_with_failed_lines_goes_on_and_exits_non_zero(tmp_path: Path) -> None:
    script = "on mars\nzed says hi\nada runs /steward features\nada runs /steward help\n"
    code, lines = await _play(tmp_path, script)
    assert code == 1
    assert "there is no 'mars' here; 'on' takes discord, slack or both" in " ".join(lines)
    assert any("nobody called zed here" in line for line in lines)
    assert any(line.startswith("[slack] only ada sees: Features") for line in lines)
    # A manager's help too long for one block shows a subcommand group apart, not "continued".
    shown = "\n".join(lines)
    assert "\nmoderation: staff: `/moderation ask" in shown
    assert "\nmoderation automod: staff: `/moderation automod add" in shown
    # With every feature loaded a manager's help is longer than one Discord embed may be (25
    # fields, 6,000 characters): it comes in numbered cards, every command in one of them.
    for platform in ("discord", "slack"):
        cards = [line for line in lines if line.startswith(f"[{platform}] only ada sees: Steward")]
        assert len(cards) > 1 and "(1/" in cards[0], (platform, cards)
    for command in ("/announcements route add", "/introductions join", "/engagement report"):
        assert shown.count(f"`{command}") == 2, command


REHEARSAL_UI = """\
ada runs /onboarding rules set Be kind.
ada runs /onboarding interest add python 🐍
ada runs /steward settings set onboarding welcome_channel #welcome
nina joins
nina clicks start
nina picks python in pick
show #nowhere
"""


async def test_people_see_what_they_can_act_on_and_act_on_it_by_name(tmp_path: Path) -> None:
    code, lines = await _play(tmp_path, REHEARSAL_UI)
    assert code == 1  # show #nowhere failed
    for platform in ("discord", "slack"):
        said = [line for line in lines if line.startswith(f"[{platform}]")]
        assert f"[{platform}] only ada sees: onboarding `welcome_channel` is now #welcome." in said
        assert f"[{platform}]   [button 'Get started': clicks start]" in said
        assert f"[{platform}]   [menu 'Pick your interests': picks 🐍 python in pick]" in said
        # the welcome's button in #welcome, pressed by name
        assert any(
            line.startswith(f"[{platform}] only nina sees: Here's how to get st") for line in said
        )
        assert f"[{platform}] only nina sees: Got it! Your interests: 🐍 python." in said
        assert (
            f"[{platform}] line 7: there is no channel #nowhere here "
            "(channels: #general #welcome #intros #mods)" in said
        )


async def test_files_people_receive_are_saved_and_their_paths_printed(tmp_path: Path) -> None:
    code, lines = await _play(tmp_path, "alice says Hello\nada runs /engagement report 7d\n")
    assert code == 0, lines
    for platform in ("discord", "slack"):
        saved = [line for line in lines if line.startswith(f"[{platform}]   [file ")]
        assert saved, lines
        assert not any(line.endswith("(no text)") for line in lines), lines
        for line in saved:
            path = Path(line.rsplit(": saved to ", 1)[1].rstrip("]"))
            assert path.parent == tmp_path / "files"
            assert _starts(path) == b"\x89PNG"  # the charts, as a person downloads them
    assert "[slack] ada gets 1 file by DM" in lines  # Slack sends a command's files by DM
    first = sorted((tmp_path / "files").iterdir())
    code, lines = await _play(tmp_path, "ada runs /engagement report 7d\n", db="again.db")
    assert code == 0, lines
    again = [line.rsplit(": saved to ", 1)[1].rstrip("]") for line in lines if "saved to" in line]
    assert again and not set(again) & {str(path) for path in first}  # a second run adds, never
    assert len(list((tmp_path / "files").iterdir())) == len(first) + len(again)  # overwrites


def _starts(path: Path) -> bytes:
    return path.read_bytes()[:4]


VERBS = """\
ada runs /steward settings set steward moderator_role @mods
bob runs /engagement unanswered
bob gets @mods
bob runs /engagement unanswered
alice says Anyone here?
bob replies Yes, welcome! to alice
alice reacts 👍 to bob
bob starts a thread Weekend plans on alice
wait 3 weeks
alice deletes
alice leaves
"""


async def test_members_reply_react_get_roles_and_leave(tmp_path: Path) -> None:
    code, lines = await _play(tmp_path, VERBS)
    assert code == 0, lines
    for platform in ("discord", "slack"):
        said = [line for line in lines if line.startswith(f"[{platform}]")]
        # A Slack user group is written by its handle, as a Discord role by its name.
        assert said[0] == f"[{platform}] only ada sees: steward `moderator_role` is now @mods."
        refused = f"[{platform}] only bob sees: Sorry, you need to be a moderator"
        assert said[1].startswith(refused)
        assert f"[{platform}] bob now has @mods" in said
        assert f"[{platform}] only bob sees: No open questions." in said  # mods is moderator
        assert f"[{platform}] bob replied to alice: Yes, welcome!" in said
        assert f"[{platform}] alice reacted 👍 to bob" in said
        assert f"[{platform}] 3 weeks pass" in said
        assert any(x.startswith(f"[{platform}] bob started a thread") for x in said)
        assert f"[{platform}] alice deleted: Anyone here?" in said
        assert f"[{platform}] alice left" in said
