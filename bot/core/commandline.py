"""Command text to a command and its arguments, for platforms that send one line of text
(Slack's slash commands, the sandbox): ``warn @alice spamming``, read against the spec."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.core.commands import CommandSpec, ParamKind, ParamSpec
from bot.core.errors import UserError
from bot.core.ids import ChannelRef, CommunityRef, RoleRef, UserRef
from bot.core.members import Level
from bot.core.parsing import parse_value

_QUOTED = r'"[^"]*"|“[^”]*”'
_TOKEN = re.compile(rf"<[^<>]*>|{_QUOTED}|[A-Za-z_]\w*=(?:<[^<>]*>|{_QUOTED})|\S+")
_NAMED = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the command text, with where it stands in the text."""

    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """The word without surrounding quotes."""
        return _unquote(self.text)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] in '"“' and text[-1] in '"”':
        return text[1:-1]
    return text


def tokenize(text: str) -> list[Token]:
    """Split command text into words, keeping mentions, quoted phrases and ``name="a b"`` whole."""
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


def _typed(spec: CommandSpec) -> list[ParamSpec]:
    """The parameters a line of text can give: every one but attached files."""
    return [p for p in spec.params if p.kind is not ParamKind.FILE]


def usage(specs: Sequence[CommandSpec], level: Level) -> str:
    """The commands someone at ``level`` may run, one per line."""
    lines = [f"`{s.typed_usage}`: {s.description}" for s in specs if level >= s.requires]
    return "\n".join(lines)


_TYPES: dict[ParamKind, Any] = {
    ParamKind.INTEGER: int,
    ParamKind.NUMBER: float,
    ParamKind.BOOLEAN: bool,
    ParamKind.DURATION: timedelta,
    ParamKind.MEMBER: UserRef,
    ParamKind.CHANNEL: ChannelRef,
    ParamKind.DESTINATION: ChannelRef,
    ParamKind.ROLE: RoleRef,
}


def _same(text: str) -> str:
    return text


Unescape = Callable[[str], str]


def _convert(kind: ParamKind, text: str, community: CommunityRef, unescape: Unescape) -> Any:
    if kind is ParamKind.STRING:
        return unescape(text)
    return parse_value(_TYPES[kind], text, community)


def _named(spec: CommandSpec, tokens: list[Token]) -> dict[int, tuple[ParamSpec, str]]:
    """The ``name=value`` words whose name is one of the command's parameters, by position."""
    params = {p.name: p for p in _typed(spec)}
    found: dict[int, tuple[ParamSpec, str]] = {}
    seen: set[str] = set()
    for i, token in enumerate(tokens):
        named = _NAMED.match(token.text)
        if named is None or named.group(1).lower() not in params:
            continue
        param = params[named.group(1).lower()]
        if param.name in seen:
            raise UserError(f"`{param.name}` is given twice.\nUsage: `{spec.typed_usage}`")
        seen.add(param.name)
        value = _unquote(named.group(2))
        if not value:
            raise UserError(f"`{param.name}=` needs a value.\nUsage: `{spec.typed_usage}`")
        found[i] = (param, value)
    return found


def _value(
    spec: CommandSpec, param: ParamSpec, word: str, community: CommunityRef, unescape: Unescape
) -> Any:
    try:
        value = _convert(param.kind, word, community, unescape)
    except UserError as exc:
        raise UserError(f"{exc.message}\nUsage: `{spec.typed_usage}`") from None
    if param.choices and value not in param.choices:
        options = ", ".join(f"`{c}`" for c in param.choices)
        raise UserError(f"`{param.name}` must be one of {options}.\nUsage: `{spec.typed_usage}`")
    return value


def parse_args(
    spec: CommandSpec,
    text: str,
    tokens: list[Token],
    community: CommunityRef,
    *,
    unescape: Unescape = _same,
) -> dict[str, Any]:
    """Arguments by name; members come back as UserRefs for the adapter to look up.

    Words fill the parameters in order; ``name=value`` (``name="two words"``) fills one by name
    wherever it stands, so an optional parameter can be skipped. The last text parameter, unless
    given by name, takes the rest of the line up to the next ``name=``, so reasons need no
    quotes. ``unescape`` undoes the platform's escaping of text arguments (Slack sends the line
    with ``&amp;``, ``&lt;``, ``&gt;``), so they hold the characters typed.
    """
    named = _named(spec, tokens)
    args: dict[str, Any] = {
        param.name: _value(spec, param, value, community, unescape)
        for param, value in named.values()
    }
    typed = _typed(spec)
    params = [p for p in typed if p.name not in args]
    words = [i for i in range(len(tokens)) if i not in named]
    last = typed[-1] if typed else None
    taken = 0
    for param in params:
        if taken >= len(words):
            break
        index = words[taken]
        if param is last and param.kind is ParamKind.STRING and not param.choices:
            stop = next((i for i in sorted(named) if i > index), len(tokens))
            span = [i for i in words[taken:] if i < stop]
            end = tokens[stop].start if stop < len(tokens) else len(text)
            rest = text[tokens[index].start : end].strip()
            if len(span) == 1:
                rest = tokens[index].value
            args[param.name] = unescape(rest)
            taken += len(span)
            break
        args[param.name] = _value(spec, param, tokens[index].value, community, unescape)
        taken += 1
    if taken < len(words):
        extra = " ".join(tokens[i].text for i in words[taken:])[:60]
        raise UserError(f"I didn't expect `{extra}` there.\nUsage: `{spec.typed_usage}`")
    missing = [p.name for p in typed if p.required and p.name not in args]
    if missing:
        raise UserError(f"Missing {', '.join(missing)}.\nUsage: `{spec.typed_usage}`")
    return args


def member_refs(args: dict[str, Any]) -> dict[str, UserRef]:
    """The arguments that still need looking up as members."""
    return {k: v for k, v in args.items() if isinstance(v, UserRef)}
