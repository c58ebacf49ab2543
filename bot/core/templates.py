"""A small, closed template language for text that managers write.

``{field}`` from a whitelist, ``{{`` and ``}}`` for literal braces, nothing else: no attributes,
indexing, format specs, loops or conditionals, so nothing in the process can be reached from a
template. A caller may also allow a closed set of transforms (``{title|upper}``,
``{summary|truncate:200}``, ``{date|date:%d %B}``), each a plain function of text or a date.
Templates are checked when saved; rendering neutralises every ping in the final text except the
mentions the bot itself adds for fields that are mentions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import UserError
from bot.core.markup import escape_markup, trim_escape
from bot.core.parsing import digits_value

MAX_TEMPLATE_CHARS = 2000
MAX_OUTPUT_CHARS = 2000
MAX_VALUE_CHARS = 300
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PIPED = re.compile(r"([a-z][a-z0-9_]{0,31})((?:\|[a-z]+(?::[^|{}]{0,40})?){0,4})")
TRANSFORMS = ("upper", "lower", "truncate", "date")
"""The transforms a caller may allow: ``upper``, ``lower``, ``truncate:N``, ``date:FORMAT``."""
_DATE_CODES = frozenset("aAbBdHIjmMpSyYZ")
DEFAULT_DATE = "%Y-%m-%d %H:%M"
Pipe = tuple[tuple[str, str], ...]
Value = str | datetime
_ZWSP = "\u200b"
_SENTINEL = re.compile("[\ue000-\uf8ff]")
_SENTINEL_SPLIT = re.compile("([\ue000-\uf8ff])")
_PINGS = (
    (re.compile(r"@(everyone|here|channel)", re.IGNORECASE), "@" + _ZWSP + r"\1"),
    (re.compile(r"<(?=[@!])"), "<" + _ZWSP),
    (re.compile(r"＠(everyone|here)", re.IGNORECASE), "＠" + _ZWSP + r"\1"),
)


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template: literal text and field names, in order."""

    parts: tuple[tuple[bool, str], ...]
    pipes: tuple[Pipe, ...] = ()
    """The transforms of each part, in order (empty unless the caller allowed transforms)."""

    @property
    def fields(self) -> frozenset[str]:
        """The field names the template uses."""
        return frozenset(text for is_field, text in self.parts if is_field)

    @property
    def source(self) -> str:
        """The template as a manager would type it."""
        out = []
        for index, (is_field, text) in enumerate(self.parts):
            if is_field:
                pipe = self.pipes[index] if index < len(self.pipes) else ()
                shown = "".join(f"|{name}" + (f":{arg}" if arg else "") for name, arg in pipe)
                out.append("{" + text + shown + "}")
            else:
                out.append(text.replace("{", "{{").replace("}", "}}"))
        return "".join(out)


def _check_pipe(text: str) -> Pipe:
    """The transforms after a field name (``|upper|truncate:80``); UserError for a bad one."""
    pipe: list[tuple[str, str]] = []
    for step in text.split("|")[1:]:
        name, _, arg = step.partition(":")
        if name not in TRANSFORMS:
            raise UserError(
                f"`{name[:20]}` is not a transform I know: use "
                "`upper`, `lower`, `truncate:N` or `date:FORMAT`."
            )
        if name == "truncate" and not 1 <= (digits_value(arg, most=4) or 0) <= 4000:
            raise UserError("Write `truncate:N` with a number of characters from 1 to 4000.")
        if name == "date":
            codes = re.findall(r"%(.)", arg)
            if not arg or any(c not in _DATE_CODES for c in codes):
                raise UserError(
                    "Write `date:FORMAT` with codes from "
                    + " ".join(f"%{c}" for c in sorted(_DATE_CODES))
                    + ", like `date:%d %B %Y`."
                )
        if name in ("upper", "lower") and arg:
            raise UserError(f"`{name}` takes nothing after it.")
        pipe.append((name, arg))
    return tuple(pipe)


def parse_template(source: str, allowed: frozenset[str], *, transforms: bool = False) -> Template:
    """Check a manager's template; a mistake raises UserError that says what and where.

    ``transforms`` allows ``{field|upper}``-style transforms after a field's name."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise UserError(
            f"That template is too long; keep it under {MAX_TEMPLATE_CHARS} characters."
        )
    parts: list[tuple[bool, str]] = []
    pipes: list[Pipe] = []
    literal: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "{" and source.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and source.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "{":
            end = source.find("}", i + 1)
            name = source[i + 1 : end] if end != -1 else ""
            pipe: Pipe = ()
            piped = _PIPED.fullmatch(name) if transforms else None
            if piped is not None and piped.group(2):
                name, pipe = piped.group(1), _check_pipe(piped.group(2))
            if end == -1 or not _FIELD.fullmatch(name):
                shown = source[i : (end + 1 if end != -1 else i + 20)][:40]
                raise UserError(
                    f"`{shown}` is not a field. Write a field as `{{name}}`, using one of: "
                    f"{_listing(allowed)}; write `{{{{` for a literal brace."
                )
            if name not in allowed:
                raise UserError(
                    f"`{{{name}}}` is not a field you can use here. "
                    f"Use one of: {_listing(allowed)}."
                )
            if literal:
                parts.append((False, "".join(literal)))
                pipes.append(())
                literal = []
            parts.append((True, name))
            pipes.append(pipe)
            i = end + 1
        elif ch == "}":
            raise UserError(
                "There is a `}` without a `{` before it; write `}}` for a literal brace."
            )
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append((False, "".join(literal)))
        pipes.append(())
    return Template(tuple(parts), tuple(pipes) if any(pipes) else ())


def _listing(allowed: frozenset[str]) -> str:
    return ", ".join(f"`{{{name}}}`" for name in sorted(allowed))


def neutralize_pings(text: str) -> str:
    """Make @everyone, @here, @channel and every ``<@…>``/``<!…>`` inert; text stays readable."""
    for pattern, replacement in _PINGS:
        text = pattern.sub(replacement, text)
    return text


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word, with an ellipsis when cut."""
    return _cut([text], limit)


def _cut(parts: Sequence[str], limit: int) -> str:
    """Literal runs and whole mentions, alternating, joined; cut to at most ``limit``
    characters with an ellipsis when longer. A mention that doesn't fit is left out whole,
    never cut into broken markup like ``<@U0…``; the run that doesn't fit is cut at a word."""
    if sum(len(part) for part in parts) <= limit:
        return "".join(parts)
    room, kept = max(limit - 1, 0), []
    for index, part in enumerate(parts):
        if len(part) > room:
            if index % 2 == 0:
                kept.append(_at_word(part[:room]))
            break
        kept.append(part)
        room -= len(part)
    return "".join(kept) + "…"


def _at_word(cut: str) -> str:
    """A run cut short, ending at its last space when that keeps more than half of it, without
    trailing punctuation or a dangling escape (an ellipsis follows)."""
    space = cut.rfind(" ")
    if space > (len(cut) + 1) // 2:
        cut = cut[:space]
    return trim_escape(cut.rstrip(" ,;:.-"))


def _apply(value: Value, pipe: Pipe) -> str:
    """A value through its transforms; a date without ``date:`` shows as ``DEFAULT_DATE``."""
    fmt = next((arg for name, arg in pipe if name == "date"), DEFAULT_DATE)
    text = value.strftime(fmt) if isinstance(value, datetime) else value
    for name, arg in pipe:
        if name == "upper":
            text = text.upper()
        elif name == "lower":
            text = text.lower()
        elif name == "truncate":
            text = shorten(text, int(arg))
    return text


def render(
    template: Template,
    values: Mapping[str, Value],
    *,
    mentions: Mapping[str, str] | None = None,
    limit: int = MAX_OUTPUT_CHARS,
    value_limit: int = MAX_VALUE_CHARS,
    literal: Collection[str] = (),
) -> str:
    """Fill a template in; values are plain text, and only ``mentions`` fields may ping.

    The values of ``literal`` fields (text from outside) are shown as typed: no markup they
    hold is active (``bot.core.markup``); only the template's own markup is.

    Pings are neutralised on the whole concatenated text (a per-part pass lets ``<@`` in the
    template and ``here`` in a value join up), then the bot's own mentions are put in place.
    """
    mentions = mentions or {}
    tokens: list[str] = []
    out: list[str] = []
    for index, (is_field, text) in enumerate(template.parts):
        if not is_field:
            out.append(_SENTINEL.sub("", text))
        elif text in mentions:
            out.append(chr(0xE000 + len(tokens)))
            tokens.append(mentions[text])
        else:
            pipe = template.pipes[index] if index < len(template.pipes) else ()
            value = _SENTINEL.sub("", _apply(values.get(text, ""), pipe))[:value_limit]
            out.append(escape_markup(value) if text in literal else value)
    # Literal runs and the bot's mentions, alternating (a mention is kept whole or left out).
    parts = _SENTINEL_SPLIT.split(neutralize_pings("".join(out)))
    parts[1::2] = [tokens[ord(token) - 0xE000] for token in parts[1::2]]
    return _cut(parts, limit)
