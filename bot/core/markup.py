"""Text from outside shown literally inside Steward's neutral markup (Discord-style markdown).

Steward's messages are written in one neutral markup: Discord's markdown, which the Slack
adapter turns into mrkdwn. Text that comes from outside (a feed item's title, a member's name)
must show as typed and never form a construct: a masked link ``[x](http://evil)``, a heading,
``-#`` subtext, a quote, code, a spoiler, emphasis, a list, a mention or a timestamp.
:func:`escape_markup` puts a backslash before every character that could start one; Discord
hides those backslashes, and the Slack adapter reads them (see ``adapters/slack/text.py``), so
the escaping lives here, once, for both platforms.
"""

from __future__ import annotations

import re

MARKUP_CHARS = frozenset("\\*_~`|[]<>#")
"""Characters escaped wherever they are."""
_ANYWHERE = re.compile(r"([\\*_~`|\[\]<>#])")
_LINE_START = re.compile(r"(?m)^([ \t]*)(?:([-+])|(\d{1,9})\.)")
"""A list item at a line's start (``- x``, ``+ x``, ``1. x``; ``-# x`` is subtext)."""
ESCAPED = re.compile(r"\\([\\*_~`|\[\]<>#+\-.])")
"""A backslash escape :func:`escape_markup` writes (and what it stands for)."""


def escape_markup(text: str) -> str:
    """``text`` with every markup character escaped: Discord shows it exactly as typed."""
    text = _ANYWHERE.sub(r"\\\1", text)
    return _LINE_START.sub(_list_start, text)


def _list_start(found: re.Match[str]) -> str:
    indent, sign, number = found.groups()
    return f"{indent}\\{sign}" if sign else f"{indent}{number}\\."


def unescape_markup(text: str) -> str:
    """What escaped text stands for (for places that show text literally, like a header)."""
    return ESCAPED.sub(r"\1", text)


def trim_escape(text: str) -> str:
    """``text`` without a backslash left dangling at its end by a cut (it would escape what
    comes next, or show)."""
    run = len(text) - len(text.rstrip("\\"))
    return text[:-1] if run % 2 else text
