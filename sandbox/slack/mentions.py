"""Who a message pings, after Slack's rules for text, mrkdwn blocks and rich text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

BROADCASTS = frozenset({"here", "channel", "everyone"})
_CONTROL = re.compile(r"<([@#!])([^>|]+)(?:\|[^>]*)?>")
_PLAIN_AT = re.compile(r"(?<![\w<@])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pings:
    """The mentions in a message: users, broadcasts, user groups, and who got notified."""

    users: frozenset[str] = frozenset()
    broadcasts: frozenset[str] = frozenset()  # subset of {"here", "channel", "everyone"}
    usergroups: frozenset[str] = frozenset()
    notified: frozenset[str] = frozenset()  # user ids that got a notification

    @property
    def anyone(self) -> bool:
        """Whether the message pinged anybody at all."""
        return bool(self.users or self.broadcasts or self.usergroups)

    def union(self, other: Pings) -> Pings:
        """Both sets of pings together (an edit keeps the pings of the original)."""
        return Pings(
            self.users | other.users,
            self.broadcasts | other.broadcasts,
            self.usergroups | other.usergroups,
            self.notified | other.notified,
        )


def _mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn string inside blocks/attachments (plain_text objects render literally)."""
    if isinstance(node, list):
        for item in node:
            yield from _mrkdwn_texts(item)
    elif isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for key, value in node.items():
            if key in {"text", "pretext", "value", "footer", "title"} and isinstance(value, str):
                if node.get("type") is None:  # legacy attachment fields are mrkdwn by default
                    yield value
            elif isinstance(value, list | dict):
                yield from _mrkdwn_texts(value)


def _rich_text_refs(node: Any) -> Iterator[tuple[str, str]]:
    """(kind, id) pairs for user/broadcast/usergroup elements inside rich_text blocks."""
    if isinstance(node, list):
        for item in node:
            yield from _rich_text_refs(item)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind == "user" and isinstance(node.get("user_id"), str):
            yield ("user", node["user_id"])
        elif kind == "broadcast" and isinstance(node.get("range"), str):
            yield ("broadcast", node["range"])
        elif kind == "usergroup" and isinstance(node.get("usergroup_id"), str):
            yield ("usergroup", node["usergroup_id"])
        for value in node.values():
            if isinstance(value, list | dict):
                yield from _rich_text_refs(value)


def find_pings(
    text: str,
    blocks: Any = None,
    attachments: Any = None,
    *,
    link_names: bool = False,
    resolve_name: Callable[[str], tuple[str, str] | None] | None = None,
) -> tuple[set[str], set[str], set[str]]:
    """Return (user ids, broadcasts, user group ids) pinged by text, blocks and attachments.

    ``link_names`` (or ``parse=full``) makes Slack turn plain ``@name``/``@here`` into
    mentions; then ``resolve_name`` maps a name to ("user"|"usergroup", id).
    """
    users: set[str] = set()
    broadcasts: set[str] = set()
    groups: set[str] = set()
    texts: list[str] = [text or ""]
    texts += list(_mrkdwn_texts(blocks)) + list(_mrkdwn_texts(attachments))
    for chunk in texts:
        for sigil, body in _CONTROL.findall(chunk):
            if sigil == "@":
                users.add(body)
            elif sigil == "!":
                if body.startswith("subteam^"):
                    groups.add(body.split("^", 1)[1])
                elif body in BROADCASTS:
                    broadcasts.add(body)
        if link_names:
            for name in _PLAIN_AT.findall(_CONTROL.sub("", chunk)):
                lowered = name.lower()
                if lowered in BROADCASTS:
                    broadcasts.add(lowered)
                elif resolve_name is not None and (hit := resolve_name(lowered)) is not None:
                    (users if hit[0] == "user" else groups).add(hit[1])
    for kind, ref in _rich_text_refs(blocks):
        if kind == "user":
            users.add(ref)
        elif kind == "broadcast" and ref in BROADCASTS:
            broadcasts.add(ref)
        elif kind == "usergroup":
            groups.add(ref)
    return users, broadcasts, groups


def notified_users(
    users: Iterable[str],
    broadcasts: Iterable[str],
    groups: Iterable[str],
    *,
    channel_members: Iterable[str],
    group_members: Callable[[str], Iterable[str]],
    author: str | None,
) -> frozenset[str]:
    """Everyone a mention reaches (a broadcast reaches all channel members; no presence)."""
    out = set(users)
    if any(True for _ in broadcasts):
        out |= set(channel_members)
    for group in groups:
        out |= set(group_members(group))
    out.discard(author or "")
    return frozenset(out)
