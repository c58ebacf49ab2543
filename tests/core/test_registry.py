"""The registry: every command can be offered on both Discord and Slack."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from bot.core import CommandContext, Feature, Level, command
from bot.core.commands import NAME_RE, ParamKind
from bot.core.registry import Registry, RegistryError
from bot.features import load
from tests.core.garden import Garden


def test_every_loaded_command_is_valid_on_both_platforms() -> None:
    registry = Registry([*load(["all"]), Garden()])
    specs = registry.commands()
    assert specs, "the built-in feature declares commands"
    seen = set()
    for spec in specs:
        assert (spec.feature, spec.name) not in seen
        seen.add((spec.feature, spec.name))
        assert NAME_RE.match(spec.feature)
        assert all(NAME_RE.match(word) for word in spec.words) and len(spec.words) <= 2
        assert 1 <= len(spec.description) <= 100
        for param in spec.params:
            assert NAME_RE.match(param.name)
            assert 1 <= len(param.description) <= 100, (spec.name, param.name)


def test_steward_commands_are_admin_only_except_help_and_forget_me() -> None:
    registry = Registry(load(["all"]))
    levels = {spec.name: spec.requires for spec in registry.commands("steward")}
    assert levels.pop("help") == Level.MEMBER
    assert levels.pop("forget me") == Level.MEMBER  # anyone may ask to be forgotten
    assert set(levels.values()) == {Level.ADMIN}


def test_parameters_are_read_from_annotations() -> None:
    spec = Registry([Garden()]).command("garden", "water")
    assert spec is not None
    assert [(p.name, p.kind, p.required) for p in spec.params] == [
        ("after", ParamKind.DURATION, True),
        ("fail", ParamKind.BOOLEAN, False),
    ]
    assert spec.usage == "/garden water <after> [fail]"


def _feature(name: str, body: dict[str, Any]) -> type[Feature]:
    return type("Made", (Feature,), {"__doc__": "Made.", **body}, name=name)


def test_duplicate_command_names_are_refused() -> None:
    async def a(self: Any, ctx: CommandContext[Any]) -> None:
        """A."""

    async def b(self: Any, ctx: CommandContext[Any]) -> None:
        """B."""

    made = _feature("dup", {"a": command("same")(a), "b": command("same")(b)})
    with pytest.raises(RegistryError, match="declared twice"):
        Registry([made()])


def test_duplicate_feature_names_are_refused() -> None:
    with pytest.raises(RegistryError, match="two features"):
        Registry([Garden(), Garden()])


def test_missing_descriptions_are_refused() -> None:
    async def nodoc(self: Any, ctx: CommandContext[Any]) -> None:
        pass

    async def noparamdoc(self: Any, ctx: CommandContext[Any], who: str) -> None:
        """Has a docstring."""

    with pytest.raises(RegistryError, match="description"):
        Registry([_feature("nodoc", {"x": command("x")(nodoc)})()])
    with pytest.raises(RegistryError, match="parameter 'who' needs a description"):
        Registry([_feature("noparam", {"x": command("x")(noparamdoc)})()])


@pytest.mark.parametrize("bad", ["Warn", "warn all now", "wärn", "x" * 33, ""])
def test_names_invalid_on_either_platform_are_refused(bad: str) -> None:
    async def fn(self: Any, ctx: CommandContext[Any]) -> None:
        """Doc."""

    with pytest.raises(RegistryError, match="names are one or two words"):
        Registry([_feature("names", {"x": command(bad)(fn)})()])


def test_unsupported_parameter_types_fail_at_class_creation() -> None:
    async def fn(self: Any, ctx: CommandContext[Any], x: Annotated[list[int], "Numbers"]) -> None:
        """Doc."""

    with pytest.raises(TypeError, match="unsupported parameter type"):
        _feature("types", {"x": command("x")(fn)})


TALKING = {"send", "reply", "dm", "open_form", "open_thread", "fetch_member", "for_feature"}
"""Port calls every feature may make; the rights for them are asked for whatever is loaded."""


def test_each_feature_declares_the_port_calls_its_code_makes() -> None:
    import importlib
    import re
    from pathlib import Path

    for feature in load(["all"]):
        package = Path(importlib.import_module(type(feature).__module__).__file__ or "").parent
        if package.name != feature.name:
            continue  # the built-in feature only talks
        made = {
            call
            for source in package.glob("*.py")
            for call in re.findall(r"\bport\.(\w+)\(", source.read_text(encoding="utf-8"))
        }
        assert made - TALKING == set(feature.port_calls), feature.name
