"""A channel as a manager names it in a command: a mention, or its name with or without ``#``."""

from __future__ import annotations

import re

from bot.core import UserError

_MENTION = re.compile(r"^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$")


def channel_of(text: str, names: dict[str, str]) -> str:
    """The id of the channel ``text`` names (``names``: id -> name of the readable channels).

    A string rather than a ChannelRef option: the Discord adapter offers channel options with
    channel type 16 (media), which the Discord API description the fake validates against does
    not know yet, so a ChannelRef option fails the command sync there.
    """
    typed = text.strip()
    found = _MENTION.match(typed)
    if found is not None:
        return found.group(1)
    if typed in names:
        return typed
    plain = typed.removeprefix("#").lower()
    for channel, name in names.items():
        if name.lower() == plain:
            return channel
    raise UserError(
        f"I don't know a channel called `{typed}` here (or can't read it). Name one like #general."
    )
