"""Which items a destination posts: a small expression over an item's fields (pure).

``title contains 'release' and not categories equals 'internal'``; ``or``, ``and``, ``not`` and
parentheses; ``contains`` and ``equals`` ignore case, ``matches`` is an RE2 regular expression
(linear time, so no filter can stall the relay). A hand-written recursive-descent parser: the
grammar is six rules, and it says exactly where a mistake is, in a manager's words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

FIELDS = ("title", "summary", "author", "categories", "link", "source")
OPERATORS = ("contains", "equals", "matches")
MAX_FILTER_CHARS = 1000
MAX_PATTERN_CHARS = 200
MAX_DEPTH = 16
_RE2_MEMORY = 8 << 20
_TOKEN = re.compile(
    r"""\s*(?:(?P<paren>[()])|'(?P<q1>[^']*)'|"(?P<q2>[^"]*)"|‘(?P<q3>[^’]*)’|“(?P<q4>[^”]*)”"""
    r"""|(?P<word>[A-Za-z_]+)|(?P<bad>\S))"""
)
Values = Mapping[str, str | Sequence[str]]
"""An item's fields as a filter reads them (``categories`` is a list)."""


class FilterError(ValueError):
    """A filter a manager typed that cannot be used, with what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = _RE2_MEMORY
    options.log_errors = False
    return options


@dataclass(frozen=True, slots=True)
class Test:
    """``field operator 'value'``."""

    name: str
    op: str
    value: str
    compiled: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``not inner``."""

    inner: Filter


@dataclass(frozen=True, slots=True)
class AllOf:
    """``a and b and …``."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``a or b or …``."""

    parts: tuple[Filter, ...]


Filter = Test | Not | AllOf | AnyOf


def check_test(field_name: str, op: str, value: str) -> Test:
    """A checked test; ``FilterError`` for an unknown field or operator, or a bad pattern."""
    if field_name not in FIELDS:
        raise FilterError(f"`{field_name[:40]}` is not a field I know: use {', '.join(FIELDS)}.")
    if op not in OPERATORS:
        raise FilterError(
            f"After `{field_name}` I expected {', '.join(OPERATORS)}, not `{op[:40]}`."
        )
    compiled = None
    if op == "matches":
        if len(value) > MAX_PATTERN_CHARS:
            raise FilterError(f"Keep a pattern under {MAX_PATTERN_CHARS} characters.")
        try:
            compiled = re2.compile(value, _options())
        except re2.error as exc:
            raise FilterError(
                f"`{value[:60]}` is not a pattern I can run: I use RE2 (no look-arounds or "
                "back-references, so a pattern always runs in linear time)."
            ) from exc
    return Test(field_name, op, value, compiled)


@dataclass
class _Tokens:
    items: list[tuple[str, str]]
    at: int = 0

    def peek(self) -> tuple[str, str]:
        return self.items[self.at] if self.at < len(self.items) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token


def _lex(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup or ""
        if kind == "bad":
            shown = text[match.start() : match.start() + 20].strip()
            if shown[:1] in "'\"‘“":
                raise FilterError(f"A quote is not closed: `{shown}`.")
            raise FilterError(
                f"I don't understand `{shown}`: put text in quotes, like `title contains 'news'`."
            )
        if kind.startswith("q"):
            out.append(("text", match.group(kind)))
        elif kind == "paren":
            out.append(("paren", match.group(kind)))
        else:
            out.append(("word", match.group(kind).lower()))
    return out


def parse(text: str) -> Filter | None:
    """The filter a manager typed (None when empty); ``FilterError`` explains a mistake."""
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"Keep a filter under {MAX_FILTER_CHARS} characters.")
    tokens = _Tokens(_lex(text))
    if not tokens.items:
        return None
    found = _or(tokens, 0)
    kind, value = tokens.peek()
    if kind != "end":
        raise FilterError(
            f"I read a whole filter and then found `{value}`: join tests with `and` or `or`."
        )
    return found


def _or(tokens: _Tokens, depth: int) -> Filter:
    parts = [_and(tokens, depth)]
    while tokens.peek() == ("word", "or"):
        tokens.take()
        parts.append(_and(tokens, depth))
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def _and(tokens: _Tokens, depth: int) -> Filter:
    parts = [_not(tokens, depth)]
    while tokens.peek() == ("word", "and"):
        tokens.take()
        parts.append(_not(tokens, depth))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _not(tokens: _Tokens, depth: int) -> Filter:
    if depth > MAX_DEPTH:
        raise FilterError("That filter nests too deeply; write it more simply.")
    if tokens.peek() == ("word", "not"):
        tokens.take()
        return Not(_not(tokens, depth + 1))
    return _atom(tokens, depth)


def _atom(tokens: _Tokens, depth: int) -> Filter:
    kind, value = tokens.take()
    if (kind, value) == ("paren", "("):
        inner = _or(tokens, depth + 1)
        if tokens.take() != ("paren", ")"):
            raise FilterError("A `(` is not closed with `)`.")
        return inner
    if kind != "word" or value in ("and", "or", "not"):
        shown = value or "the end"
        raise FilterError(
            f"I expected a field ({', '.join(FIELDS)}) but found `{shown}`; "
            "a test looks like `title contains 'news'`."
        )
    op_kind, op = tokens.take()
    if op_kind != "word":
        op = op or "the end"
    quoted_kind, quoted = tokens.take() if op_kind == "word" else ("end", "")
    if value in FIELDS and op in OPERATORS and quoted_kind != "text":
        raise FilterError(f"Put the text to look for in quotes: `{value} {op} 'news'`.")
    return check_test(value, op, quoted)


def _quote(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return f"“{text}”"


def show(node: Filter) -> str:
    """The filter written out again, as a manager can type it (``parse(show(f)) == f``)."""
    if isinstance(node, Test):
        return f"{node.name} {node.op} {_quote(node.value)}"
    if isinstance(node, Not):
        inner = show(node.inner)
        return f"not {inner}" if isinstance(node.inner, Test | Not) else f"not ({inner})"
    joiner = " and " if isinstance(node, AllOf) else " or "
    return joiner.join(
        f"({show(p)})" if isinstance(p, AllOf | AnyOf) else show(p) for p in node.parts
    )


def _values(values: Values, name: str) -> list[str]:
    found = values.get(name, "")
    return [found] if isinstance(found, str) else list(found)  # no categories: nothing holds


def _holds(node: Test, values: Values) -> bool:
    wanted = node.value.casefold()
    for value in _values(values, node.name):
        if node.op == "contains" and wanted in value.casefold():
            return True
        if node.op == "equals" and wanted.strip() == value.strip().casefold():
            return True
        if node.op == "matches" and node.compiled is not None and node.compiled.search(value):
            return True
    return False


_NEGATED = {"contains": "doesn't contain", "equals": "doesn't equal", "matches": "doesn't match"}


def explain(node: Filter, values: Values) -> tuple[bool, str]:
    """Whether an item passes, and the tests that decided it, in words."""
    if isinstance(node, Test):
        held = _holds(node, values)
        op = node.op if held else _NEGATED[node.op]
        return held, f"{node.name} {op} {_quote(node.value)}"
    if isinstance(node, Not):
        held, why = explain(node.inner, values)
        return not held, why
    results = [explain(p, values) for p in node.parts]
    deciding = not isinstance(node, AllOf)  # an `or` is decided by a part that holds
    for held, why in results:
        if held is deciding:
            return held, why
    return (not deciding), " and ".join(why for _, why in results)


def passes(node: Filter | None, values: Values) -> bool:
    """Whether an item passes (no filter lets everything through)."""
    return node is None or explain(node, values)[0]
