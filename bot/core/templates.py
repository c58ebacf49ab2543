"""A small, closed template language for text that managers write.

``{field}`` from a whitelist, ``{{`` and ``}}`` for literal braces, nothing else: no attributes,
indexing, format specs, filters, loops or conditionals, so nothing in the process can be reached
from a template. Templates are checked when saved; rendering neutralises every ping in the final
text except the mentions the bot itself adds for fields that are mentions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.errors import UserError

MAX_TEMPLATE_CHARS = 2000
MAX_OUTPUT_CHARS = 2000
MAX_VALUE_CHARS = 300
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,31}")
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

    @property
    def fields(self) -> frozenset[str]:
        """The field names the template uses."""
        return frozenset(text for is_field, text in self.parts if is_field)

    @property
    def source(self) -> str:
        """The template as a manager would type it."""
        out = []
        for is_field, text in self.parts:
            out.append("{" + text + "}" if is_field else text.replace("{", "{{").replace("}", "}}"))
        return "".join(out)


def parse_template(source: str, allowed: frozenset[str]) -> Template:
    """Check a manager's template; a mistake raises UserError that says what and where."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise UserError(
            f"That template is too long; keep it under {MAX_TEMPLATE_CHARS} characters."
        )
    parts: list[tuple[bool, str]] = []
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
                literal = []
            parts.append((True, name))
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
    return Template(tuple(parts))


def _listing(allowed: frozenset[str]) -> str:
    return ", ".join(f"`{{{name}}}`" for name in sorted(allowed))


def neutralize_pings(text: str) -> str:
    """Make @everyone, @here, @channel and every ``<@…>``/``<!…>`` inert; text stays readable."""
    for pattern, replacement in _PINGS:
        text = pattern.sub(replacement, text)
    return text


def render(
    template: Template,
    values: Mapping[str, str],
    *,
    mentions: Mapping[str, str] | None = None,
    limit: int = MAX_OUTPUT_CHARS,
) -> str:
    """Fill a template in; values are plain text, and only ``mentions`` fields may ping.

    Pings are neutralised on the whole concatenated text (a per-part pass lets ``<@`` in the
    template and ``here`` in a value join up), then the bot's own mentions are put in place.
    """
    mentions = mentions or {}
    tokens: list[str] = []
    out: list[str] = []
    for is_field, text in template.parts:
        if not is_field:
            out.append(_SENTINEL.sub("", text))
        elif text in mentions:
            out.append(chr(0xE000 + len(tokens)))
            tokens.append(mentions[text])
        else:
            value = _SENTINEL.sub("", str(values.get(text, "")))[:MAX_VALUE_CHARS]
            out.append(value)
    rendered = neutralize_pings("".join(out))
    # Literal runs and the bot's mentions, alternating: a mention is kept whole or left out,
    # never cut into broken markup like ``<@U0…``.
    parts = _SENTINEL_SPLIT.split(rendered)
    parts[1::2] = [tokens[ord(token) - 0xE000] for token in parts[1::2]]
    if sum(len(part) for part in parts) <= limit:
        return "".join(parts)
    room, kept = limit - 1, []
    for i, part in enumerate(parts):
        if len(part) > room:
            if i % 2 == 0:
                kept.append(part[:room])
            break
        kept.append(part)
        room -= len(part)
    return "".join(kept) + "…"
