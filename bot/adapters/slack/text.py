"""Slack text: escaping what came from outside, keeping only the pings a manager allowed."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from bot.core.markup import ESCAPED

_TOKEN = re.compile(r"(?<!\\)<([@#!][^<>]*)>")
_BROADCAST = re.compile(r"@(everyone|here|channel)", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s()<>|]{1,500})\)")
_ZWSP = "\u200b"


def escape(text: str) -> str:
    """Slack's three control characters, escaped; broadcast words made inert."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + _ZWSP + r"\1", text)


def unescape(text: str) -> str:
    """Text as Slack sends it (``&amp;``, ``&lt;``, ``&gt;``) back to the characters typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inert(char: str) -> str:
    """A character the neutral markup escaped, as Slack shows it without formatting anything:
    emphasis, strike and code marks between zero-width spaces (they can neither open nor close
    a span), a quote mark that cannot start a quote."""
    if char in "*_~`":
        return _ZWSP + char + _ZWSP
    if char == ">":
        return _ZWSP + "&gt;"
    return escape(char)


def _literal(text: str) -> str:
    """A literal run of the neutral markup as Slack mrkdwn; what it escaped stays inert."""
    out: list[str] = []
    pos = 0
    for match in ESCAPED.finditer(text):
        out.append(_markup(text[pos : match.start()]))
        out.append(_inert(match.group(1)))
        pos = match.end()
    out.append(_markup(text[pos:]))
    return "".join(out)


def _markup(text: str) -> str:
    """Escape a run of the neutral markup and turn its bold and links into Slack mrkdwn."""
    out: list[str] = []
    pos = 0
    for match in _LINK.finditer(text):
        out.append(_BOLD.sub(r"*\1*", escape(text[pos : match.start()])))
        out.append(f"<{match.group(2)}|{escape(match.group(1))}>")
        pos = match.end()
    out.append(_BOLD.sub(r"*\1*", escape(text[pos:])))
    return "".join(out)


def mentioned_users(text: str) -> set[str]:
    """User ids mentioned in neutral or Slack markup (to look their names up)."""
    found = set()
    for match in _TOKEN.finditer(text):
        body = match.group(1)
        if body.startswith("@") and not body.startswith("@&"):
            found.add(body[1:].split("|", 1)[0].lstrip("!"))
    return found


def mentioned_groups(text: str) -> set[str]:
    """User-group ids mentioned in neutral (``<@&S1>``) or Slack (``<!subteam^S1>``) markup."""
    found = set()
    for match in _TOKEN.finditer(text):
        ident = match.group(1).split("|", 1)[0]
        if ident.startswith("@&"):
            found.add(ident[2:])
        elif ident.startswith("!subteam^"):
            found.add(ident[len("!subteam^") :])
    return found


def to_mrkdwn(
    text: str,
    *,
    ping_users: Collection[str] = (),
    ping_groups: Collection[str] = (),
    ping_everyone: bool = False,
    name_of: Callable[[str], str | None] = lambda _id: None,
    group_name: Callable[[str], str | None] = lambda _id: None,
) -> str:
    """Neutral text to Slack mrkdwn in which nothing pings unless it is in the allowed sets.

    A user mention that may not ping becomes ``@name`` in plain text; a group mention becomes
    ``@handle`` (from ``group_name``; ``@group`` when unknown); ``<!here>``-style broadcasts
    become inert words; channel links stay links (they notify nobody). Everything else is
    escaped, so text from outside cannot form a control sequence.
    """
    out: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(_literal(text[pos : match.start()]))
        pos = match.end()
        body = match.group(1)
        ident, _, label = body.partition("|")
        if ident.startswith("#"):
            out.append(f"<{escape(ident)}>")
        elif ident.startswith(("@&", "!subteam^")):
            group = ident[2:] if ident.startswith("@&") else ident[len("!subteam^") :]
            if group in ping_groups:
                out.append(f"<!subteam^{escape(group)}>")
            else:
                name = label.removeprefix("@") or group_name(group) or "group"
                out.append("@" + escape(name))
        elif ident.startswith("@"):
            user = ident[1:].lstrip("!")
            if user in ping_users:
                out.append(f"<@{escape(user)}>")
            else:
                out.append("@" + escape(name_of(user) or label or "someone"))
        elif ident[1:] in ("here", "channel", "everyone") and ping_everyone:
            out.append(f"<{ident}>")
        else:
            out.append(escape(match.group(0)))
    out.append(_literal(text[pos:]))
    return "".join(out)


def to_plain(text: str) -> str:
    """Plain text for Block Kit ``plain_text`` objects (rendered literally by Slack)."""
    return _BROADCAST.sub("@" + _ZWSP + r"\1", text)
