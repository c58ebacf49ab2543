"""One slash command per feature: ``/moderation warn @alice spamming``, parsed by the spec."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.text import unescape
from bot.core.commands import CommandSpec, ParamKind
from bot.core.errors import UserError
from bot.core.ids import CommunityRef, UserRef
from bot.core.members import Level
from bot.core.parsing import (
    parse_bool,
    parse_channel,
    parse_duration,
    parse_float,
    parse_int,
    parse_role,
    parse_user,
)

_TOKEN = re.compile(r'<[^<>]*>|"[^"]*"|“[^”]*”|\S+')


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the command text, with where it stands in the text."""

    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """The word without surrounding quotes."""
        if len(self.text) >= 2 and self.text[0] in '"“' and self.text[-1] in '"”':
            return self.text[1:-1]
        return self.text


def tokenize(text: str) -> list[Token]:
    """Split command text into words, keeping mentions and quoted phrases whole."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def match(specs: Sequence[CommandSpec], tokens: list[Token]) -> tuple[CommandSpec, int] | None:
    """The command the first one or two words name, and how many words that took."""
    words = [t.value.lower() for t in tokens[:2]]
    for spec in specs:
        if len(spec.words) == 2 and words[:2] == list(spec.words):
            return spec, 2
    for spec in specs:
        if len(spec.words) == 1 and words[:1] == list(spec.words):
            return spec, 1
    return None


def usage(specs: Sequence[CommandSpec], level: Level) -> str:
    """The commands someone at ``level`` may run, one per line."""
    lines = [f"`{s.usage}`: {s.description}" for s in specs if level >= s.requires]
    return "\n".join(lines)


def _convert(kind: ParamKind, text: str, community: CommunityRef) -> Any:
    if kind is ParamKind.INTEGER:
        return parse_int(text)
    if kind is ParamKind.NUMBER:
        return parse_float(text)
    if kind is ParamKind.BOOLEAN:
        return parse_bool(text)
    if kind is ParamKind.DURATION:
        return parse_duration(text)
    if kind is ParamKind.MEMBER:
        return parse_user(text, community)
    if kind is ParamKind.CHANNEL:
        return parse_channel(text, community)
    if kind is ParamKind.ROLE:
        return parse_role(text, community)
    return unescape(text)


def parse_args(
    spec: CommandSpec, text: str, tokens: list[Token], community: CommunityRef
) -> dict[str, Any]:
    """Arguments by name; members come back as UserRefs for the adapter to look up.

    The last text parameter takes the rest of the line, so reasons need no quotes. Slack sends
    the line escaped (``&amp;``, ``&lt;``, ``&gt;``); text arguments get the characters typed.
    """
    args: dict[str, Any] = {}
    index = 0
    for position, param in enumerate(spec.params):
        if index >= len(tokens):
            break
        is_last = position == len(spec.params) - 1
        if param.kind is ParamKind.STRING and is_last and not param.choices:
            rest = text[tokens[index].start :].strip()
            if len(tokens) - index == 1:
                rest = tokens[index].value
            args[param.name] = unescape(rest)
            index = len(tokens)
            break
        word = tokens[index].value
        index += 1
        try:
            value = _convert(param.kind, word, community)
        except UserError as exc:
            raise UserError(f"{exc.message}\nUsage: `{spec.usage}`") from None
        if param.choices and value not in param.choices:
            options = ", ".join(f"`{c}`" for c in param.choices)
            raise UserError(f"`{param.name}` must be one of {options}.\nUsage: `{spec.usage}`")
        args[param.name] = value
    if index < len(tokens):
        extra = " ".join(t.text for t in tokens[index:])[:60]
        raise UserError(f"I didn't expect `{extra}` there.\nUsage: `{spec.usage}`")
    missing = [p.name for p in spec.params if p.required and p.name not in args]
    if missing:
        raise UserError(f"Missing {', '.join(missing)}.\nUsage: `{spec.usage}`")
    return args


def member_refs(args: dict[str, Any]) -> dict[str, UserRef]:
    """The arguments that still need looking up as members."""
    return {k: v for k, v in args.items() if isinstance(v, UserRef)}
