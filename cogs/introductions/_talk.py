"""Who has talked to whom (pure): the pairs a message joins, and the graph the matcher reads.

A message joins its author with the author of the message it replies to, with every member it
mentions, and with everyone who has already posted in the same thread. Only ids are kept, never
what was said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Discord writes <@123> or <@!123> (<@&123> is a role); Slack writes <@U123> or <@U123|name>.
_MENTION = re.compile(r"<@!?([0-9A-Z]+)(?:\|[^>]*)?>")


def mentioned(text: str) -> frozenset[str]:
    """The user ids mentioned in a message, as either platform writes them."""
    return frozenset(_MENTION.findall(text))


@dataclass(frozen=True, slots=True)
class Said:
    """One message as the talk graph sees it."""

    author: str
    text: str = ""
    replied_to: str | None = None
    """The author of the message this one replies to, when known."""
    thread_posters: frozenset[str] = frozenset()
    """Who had already posted in the thread this message is in."""


def pairs_joined(said: Said, bots: frozenset[str] = frozenset()) -> set[frozenset[str]]:
    """The pairs of members this message shows have talked (never a member with themselves)."""
    others = set(mentioned(said.text)) | set(said.thread_posters)
    if said.replied_to is not None:
        others.add(said.replied_to)
    others -= bots | {said.author}
    return {frozenset((said.author, other)) for other in others}


def talk_graph(pairs: Iterable[tuple[str, str]]) -> Mapping[str, frozenset[str]]:
    """Each member's set of people they have talked with, from stored pairs."""
    graph: dict[str, set[str]] = {}
    for a, b in pairs:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set()).add(a)
    return {u: frozenset(vs) for u, vs in graph.items()}
