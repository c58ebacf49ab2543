"""Deliveries that may share one post: the outbox's seam for greeting a burst together.

A feature marks a channel delivery with :class:`Together` (a kind it registered with
:func:`together` and the plain values its merger needs). When several such deliveries of one
kind wait at the head of the same channel's lane (the channel's rate limit is holding them
back), the outbox asks the kind's merger for one message standing for all of them and sends
that instead: one post, recorded on every row it covers. A lone delivery, or one to an idle
channel, goes out as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.ids import CommunityRef
from bot.core.message import Message

MAX_TOGETHER = 50
"""Deliveries one post stands for at most (Discord pings at most 100 users in one message)."""
MAX_TOGETHER_TEXT = 1900
"""The longest text a merged post may have: under Discord's 2000 characters and Slack's
3000 of a section, so no mention is ever clipped away."""
TOGETHER = "together"
"""In a row's payload: ``[kind, values]``, the delivery may share a post."""
COVERS = "covers"
"""In a merged row's payload: the stored keys of the other rows its post stands for."""

Merger = Callable[[CommunityRef, Sequence[dict[str, Any]]], Message]
"""One message for several deliveries, from each one's values (in the order queued)."""

_MERGERS: dict[str, Merger] = {}


@dataclass(frozen=True, slots=True)
class Together:
    """A channel delivery that may share a post with others of ``kind`` waiting with it.

    ``values`` (JSON) are what the kind's merger needs of this one delivery."""

    kind: str
    values: dict[str, Any]


def together(kind: str) -> Callable[[Merger], Merger]:
    """Register the merger of ``kind`` (a feature does it once, at import)."""

    def register(merger: Merger) -> Merger:
        _MERGERS[kind] = merger
        return merger

    return register


def kind_of(payload: dict[str, Any]) -> str | None:
    """The kind of post a row may share, if it may (never a row that is a merge already)."""
    marked = payload.get(TOGETHER)
    if not marked or COVERS in payload or str(marked[0]) not in _MERGERS:
        return None
    return str(marked[0])


def merge(
    community: CommunityRef, kind: str, payloads: Sequence[dict[str, Any]]
) -> tuple[Message, int] | None:
    """One message for the first of ``payloads`` (all of ``kind``) and how many it stands for:
    as many as fit :data:`MAX_TOGETHER` and :data:`MAX_TOGETHER_TEXT`; None when fewer than
    two fit (each goes out as written)."""
    merger = _MERGERS[kind]
    values = [dict(p[TOGETHER][1]) for p in payloads[:MAX_TOGETHER]]
    while len(values) >= 2:
        message = merger(community, values)
        if len(message.text) <= MAX_TOGETHER_TEXT:
            return message, len(values)
        if len(values) == 2:
            break
        values = values[: max(2, len(values) * MAX_TOGETHER_TEXT // len(message.text))]
    return None
