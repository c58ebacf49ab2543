"""Neutral UI that the adapters render: messages, buttons, selects and forms (modals)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.core.ids import ChannelRef, RoleRef, UserRef

ButtonStyle = Literal["primary", "secondary", "danger", "success"]
_ID_PART = re.compile(r"^[a-z0-9_\-]{1,32}$")


def component_id(feature: str, action: str, value: str = "") -> str:
    """The wire id of a component: ``steward:{feature}:{action}:{value}``."""
    for part in (feature, action):
        if not _ID_PART.match(part):
            raise ValueError(f"invalid component id part: {part!r}")
    cid = f"steward:{feature}:{action}:{value}"
    if len(cid) > 100:
        raise ValueError("component ids are limited to 100 characters")
    return cid


def parse_component_id(cid: str) -> tuple[str, str, str] | None:
    """Split a wire id back into (feature, action, value); None when it is not Steward's."""
    prefix, _, rest = cid.partition(":")
    if prefix != "steward":
        return None
    feature, _, rest = rest.partition(":")
    action, _, value = rest.partition(":")
    if not feature or not action:
        return None
    return feature, action, value


@dataclass(frozen=True, slots=True)
class Button:
    """A button; pressing it comes back to the feature's ``@component(action)`` handler."""

    action: str
    label: str
    value: str = ""
    style: ButtonStyle = "secondary"
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One choice in a select."""

    label: str
    value: str
    description: str | None = None
    emoji: str | None = None


@dataclass(frozen=True, slots=True)
class Select:
    """A drop-down of options; picks come back to ``@component(action)``."""

    action: str
    options: tuple[Option, ...]
    placeholder: str = "Choose…"
    min_values: int = 1
    max_values: int = 1
    value: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message, such as a chart image."""

    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """What Steward says. Nobody is pinged unless listed in ``ping_users``/``ping_roles``."""

    text: str = ""
    title: str | None = None
    link: str | None = None
    """Where the title leads (an http(s) address), as an embed's or a header's link."""
    image: str | None = None
    """An image shown with the message (an http(s) address)."""
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    selects: tuple[Select, ...] = ()
    files: tuple[Attachment, ...] = ()
    ping_users: frozenset[UserRef] = frozenset()
    ping_roles: frozenset[RoleRef] = frozenset()
    ping_everyone: bool = False
    unfurl: bool = False
    post_name: str | None = None
    """Sent to a forum channel (Discord), the message opens a post of this name (its thread);
    elsewhere it is an ordinary message."""
    post_tags: tuple[str, ...] = ()
    """The forum's tags the post gets, by name (those the forum has; at most 5)."""


@dataclass(frozen=True, slots=True)
class TextInput:
    """A text field in a form."""

    key: str
    label: str
    long: bool = False
    required: bool = True
    placeholder: str = ""
    default: str = ""
    max_length: int = 1000


@dataclass(frozen=True, slots=True)
class Form:
    """A modal: a title and a few text inputs; the submission comes back to ``@component``."""

    action: str
    title: str
    inputs: tuple[TextInput, ...] = field(default_factory=tuple)
    value: str = ""


def mention(ref: UserRef | ChannelRef | RoleRef) -> str:
    """The neutral mention markup both platforms understand (``<@id>``, ``<#id>``, ``<@&id>``)."""
    if isinstance(ref, UserRef):
        return f"<@{ref.id}>"
    if isinstance(ref, ChannelRef):
        return f"<#{ref.id}>"
    return f"<@&{ref.id}>"


def plural(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the word for it: "1 hour", "2 hours", "1 newcomer" (``many`` if irregular)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
