"""The gateway intents the loaded features need (the client asks for them, doctor checks them)."""

from __future__ import annotations

import discord

from bot.core.events import MemberJoined, MemberLeft, MemberUpdated, MessageEdited, MessagePosted
from bot.core.registry import Registry

_MEMBER_EVENTS = (MemberJoined, MemberLeft, MemberUpdated)
_MESSAGE_EVENTS = (MessagePosted, MessageEdited)


def intents_for(registry: Registry) -> discord.Intents:
    """The gateway intents the loaded features need, and no more."""
    intents = discord.Intents.default()
    intents.members = any(registry.listeners(e) for e in _MEMBER_EVENTS)
    intents.message_content = any(registry.listeners(e) for e in _MESSAGE_EVENTS)
    return intents
