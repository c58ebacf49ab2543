"""What a person can act on in a message: its buttons and menus, named as the client shows them.

Steward's component ids are ``steward:{feature}:{action}:{value}``; the sandbox's verbs name the
``action`` (``nina clicks start``, ``nina picks python in pick``), so each control is printed
with the label a person reads and the word that acts on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
_LEADING_SYMBOLS = re.compile(r"^[^\w]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Control:
    """A button or a menu: what it reads, the action word, and a menu's options."""

    kind: str  # button | menu
    label: str
    action: str
    options: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line, as the sandbox prints it."""
        if self.kind == "button":
            return f"[button {self.label!r}: clicks {self.action}]"
        return f"[menu {self.label!r}: picks {', '.join(self.options)} in {self.action}]"


def _action(component_id: str) -> str | None:
    parts = component_id.split(":")
    return parts[2] if len(parts) >= 3 else None


def discord_controls(components: list[JSON]) -> list[Control]:
    """The buttons and string selects of a Discord message's components, in order."""
    found: list[Control] = []
    stack = list(reversed(components))
    while stack:
        item = stack.pop()
        stack += reversed(item.get("components", []))
        action = _action(str(item.get("custom_id", "")))
        if action is None:
            continue
        if item.get("type") == 2:
            found.append(Control("button", str(item.get("label") or action), action))
        elif item.get("type") == 3:
            options = tuple(discord_option(o) for o in item.get("options", []))
            found.append(Control("menu", str(item.get("placeholder") or action), action, options))
    return found


def discord_option(option: JSON) -> str:
    """An option as Discord shows it: its emoji, then its label."""
    emoji = option.get("emoji") or {}
    name = emoji.get("name") if isinstance(emoji, dict) else None
    return f"{name} {option['label']}" if name else str(option["label"])


def slack_controls(blocks: list[JSON]) -> list[Control]:
    """The buttons and selects of Slack blocks (action blocks and section accessories)."""
    found: list[Control] = []
    for block in blocks or []:
        elements = list(block.get("elements", []))
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            action = _action(str(element.get("action_id", "")))
            if action is None:
                continue
            if element.get("type") == "button":
                found.append(Control("button", _text(element.get("text")) or action, action))
            elif "select" in str(element.get("type")):
                options = tuple(_text(o.get("text")) for o in element.get("options", []))
                label = _text(element.get("placeholder")) or action
                found.append(Control("menu", label, action, options))
    return found


def _text(node: Any) -> str:
    return str(node.get("text", "")) if isinstance(node, dict) else str(node or "")


def controls_of(raw: Any) -> list[Control]:
    """The controls on a fake's message, whichever platform it came from."""
    components = getattr(raw, "components", None)
    if isinstance(components, list):
        return discord_controls(components)
    blocks = getattr(raw, "blocks", None)
    return slack_controls(blocks) if isinstance(blocks, list) else []


def option_values(options: list[tuple[str, str]], wanted: list[str]) -> list[str]:
    """The values of the options a person names: by value, by label, or by the label without
    its emoji (``python`` picks "🐍 python"). An unknown name is refused, with the choices."""
    values: list[str] = []
    for name in wanted:
        key = name.strip().lower()
        match = [
            value
            for label, value in options
            if key in (value.lower(), label.strip().lower(), _bare(label))
        ]
        if not match:
            choices = ", ".join(label for label, _ in options) or "none"
            raise LookupError(f"there is no option '{name.strip()}' (the options: {choices})")
        values.append(match[0])
    return values


def _bare(label: str) -> str:
    return _LEADING_SYMBOLS.sub("", label).strip().lower()
