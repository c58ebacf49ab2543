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


SLACK_BUILT_INS = {"invite"}  # Slack's own commands, which the README tells people to use
HTTP_PATHS = {"healthz", "metrics"}
"""Paths on Steward's HTTP endpoint (Health and metrics), not slash commands."""


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_the_readme_shows_exists() -> None:
    from bot.adapters.slack.commands import match, tokenize
    from bot.core.registry import Registry

    registry = Registry(load(["all"]))
    readme = _readme()
    shown = {
        (found.group(1), found.group(2))
        for found in re.finditer(r"`/([a-z]+)((?: [^`<\[|]*)?)(?=[`<\[|])", readme)
        if "not built yet" not in readme[found.end() : found.end() + 40]  # said to be coming
        and found.group(1) not in SLACK_BUILT_INS
        and found.group(1) not in HTTP_PATHS
    }
    assert len(shown) > 10, "the README shows no commands"
    for feature, rest in sorted(shown):
        example = f"/{feature}{rest}"
        rest = rest.strip()
        specs = registry.commands(feature)
        assert specs, f"the README shows {example}, but there is no /{feature}"
        tokens = tokenize(rest)
        words = [token.text for token in tokens]
        if words and words[0] != "help":
            assert match(specs, tokens) is not None, f"the README shows {example}: no such command"
        if words[:2] == ["settings", "set"] and len(words) > 3:
            settings = next(f for f in registry.features if f.name == words[2]).Settings
            assert words[3] in settings.model_fields, f"{example}: no setting {words[3]}"


def test_the_onboarding_defaults_in_the_readme_are_the_settings_defaults() -> None:
    from bot.builtin._fields import show_value
    from cogs.onboarding.settings import OnboardingSettings

    section = _readme().split("## Onboarding", 1)[1].split("Managers (admins):", 1)[0]
    stated = dict(re.findall(r"`(\w+)` \((\d\w*)\)", section))
    assert len(stated) >= 8, stated
    defaults = OnboardingSettings()
    for key, value in stated.items():
        assert show_value(getattr(defaults, key)) == value, key


def test_the_introductions_defaults_in_the_readme_are_the_settings_defaults() -> None:
    from bot.builtin._fields import show_value
    from cogs.introductions.settings import IntroductionsSettings

    section = _readme().split("## Introductions", 1)[1].split("Members:", 1)[0]
    stated = dict(re.findall(r"`(\w+)` \(([\w:]+)\)", section))
    assert len(stated) >= 6, stated
    defaults = IntroductionsSettings()
    for key, value in stated.items():
        assert show_value(getattr(defaults, key)) == value, key


async def test_the_template_fields_the_readme_names_are_accepted(tmp_path: Path) -> None:
    section = _readme().split("## Templates", 1)[1].split("##", 1)[0]
    fields = [f for f in re.findall(r"`\{(\w+)\}`", section) if f != "field"]
    assert fields, "the README's Templates section names no fields"
    template = " ".join("{" + field + "}" for field in fields)
    lines: list[str] = []
    line = f"ada runs /onboarding welcome set Hello {template}"
    assert await run(f"sqlite:///{tmp_path / 'box.db'}", load(["all"]), [line], lines.append) == 0
    for platform in ("discord", "slack"):
        saved = f"[{platform}] only ada sees: Welcome saved."
        assert any(x.startswith(saved) for x in lines), lines


def _examples(heading: str) -> list[str]:
    section = _readme().split("## Announcements", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```text\n# {heading}\n(.*?)```", section, re.DOTALL)
    assert found, f"the README's {heading} examples are missing"
    return [line for line in found.group(1).splitlines() if line.strip()]


def test_the_announcement_filters_and_templates_in_the_readme_are_accepted() -> None:
    from cogs.announcements._filters import parse, show
    from cogs.announcements._render import check_template

    filters = _examples("filters")
    assert len(filters) >= 4
    for line in filters:
        found = parse(line)  # raises with the manager's explanation if the README is wrong
        assert found is not None and parse(show(found)) == found
    templates = _examples("templates")
    assert len(templates) >= 3
    for line in templates:
        assert check_template(line).fields
    from cogs.announcements._tags import parse_tags, stored

    tags = _examples("tags")
    assert len(tags) >= 2
    for line in tags:
        assert stored(parse_tags(line)) == line  # as typed is as stored and shown
