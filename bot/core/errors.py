"""Errors a person may see, and the one place that turns any exception into a reply."""

from __future__ import annotations

import secrets

from bot.core.members import Level
from bot.core.message import Message


class StewardError(Exception):
    """Base for Steward's own errors."""


class UserError(StewardError):
    """Something the invoker can fix; the text is shown to them, and only to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(UserError):
    """The invoker's level is below what the command needs."""

    def __init__(self, needed: Level, what: str) -> None:
        super().__init__(f"Sorry, you need to be {needed.label} to use {what}.")
        self.needed = needed


class NotFound(UserError):
    """A thing the invoker named does not exist."""


class NotSupported(StewardError):
    """The platform cannot do this (for example, Slack has no member timeout)."""

    def __init__(self, capability: str, platform: str) -> None:
        super().__init__(f"{capability} is not supported on {platform}")
        self.capability = capability
        self.platform = platform


class Unavailable(StewardError):
    """The platform failed in a way that may pass (5xx, network): worth trying again later."""


def new_error_id() -> str:
    """A short id that ties what a user saw to a log line."""
    return secrets.token_hex(3)


def render_error(exc: BaseException, *, error_id: str) -> Message:
    """What the invoker sees for ``exc``; never the text of an unexpected exception."""
    if isinstance(exc, UserError):
        return Message(text=exc.message)
    if isinstance(exc, NotSupported):
        name = exc.platform.capitalize()
        return Message(text=f"That isn't available on {name}.")
    return Message(
        text=(
            f"Something went wrong on our side (error `{error_id}`). "
            "Nothing you did caused it; a community manager can look it up with that code."
        )
    )
