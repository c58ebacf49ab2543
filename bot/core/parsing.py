"""Text to typed values: durations, yes/no, and mentions in Discord's and Slack's forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

from bot.core.errors import UserError
from bot.core.ids import ChannelRef, CommunityRef, RoleRef, UserRef

_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+)\s*([wdhms])", re.IGNORECASE)
_TRUE = {"on", "yes", "true", "y", "1", "enable", "enabled"}
_FALSE = {"off", "no", "false", "n", "0", "disable", "disabled"}

# Discord: <@123> <@!123>; Slack (escaped): <@U123> <@U123|name>
_USER = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$")
# Discord: <#123>; Slack: <#C123> <#C123|name>
_CHANNEL = re.compile(r"^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$")
# Discord: <@&123>; Slack: <!subteam^S123> <!subteam^S123|@name>
_ROLE = re.compile(r"^(?:<@&(\d+)>|<!subteam\^([A-Za-z0-9]+)(?:\|[^>]*)?>)$")
_TIME = re.compile(r"^(\d{1,2}):?(\d{2})$")
_RAW_ID = re.compile(r"^[A-Za-z0-9]{2,32}$")


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "10m", "2h30m", "3d", "1w" into a timedelta."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        raise UserError("Give a duration such as `10m`, `2h` or `3d`.")
    pos = 0
    seconds = 0
    for match in _DURATION_PART.finditer(cleaned):
        if match.start() != pos:
            break
        if len(match.group(1)) > 12:  # int() refuses over 4,300 digits; no duration needs 13
            raise UserError("That duration is too long; keep it under ten years.")
        seconds += int(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
        pos = match.end()
    if pos != len(cleaned):
        raise UserError(
            f"`{text.strip()[:40]}` is not a duration; use a form like `10m`, `2h` or `3d`."
        )
    if seconds <= 0:
        raise UserError(f"`{text.strip()[:40]}` is no time at all.")
    if seconds > 10 * 365 * 86400:
        raise UserError("That duration is too long; keep it under ten years.")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The short form people type: 1d2h, 45m, 30s."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in _DURATION_UNITS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def parse_time(text: str) -> time:
    """Parse a time of day: 22:00, 7:30, 0800."""
    match = _TIME.match(text.strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise UserError(f"`{text.strip()[:40]}` is not a time of day; use a form like `22:00`.")


def parse_bool(text: str) -> bool:
    """Parse on/off, yes/no, true/false."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UserError(f"`{text.strip()[:40]}` is not a yes/no value; use `on` or `off`.")


def digits_value(text: str, most: int = 18) -> int | None:
    """``text`` as a whole number when it is ASCII digits only, at most ``most`` of them; else
    None. (``str.isdigit`` also says yes to ``²`` and ``①``, which ``int`` refuses, and
    ``int`` refuses over 4,300 digits: text from outside is checked here, not there.)"""
    if text.isascii() and text.isdigit() and len(text) <= most:
        return int(text)
    return None


def parse_int(text: str) -> int:
    """Parse a whole number."""
    try:
        return int(text.strip())
    except ValueError:
        raise UserError(f"`{text.strip()[:40]}` is not a whole number.") from None


def parse_float(text: str) -> float:
    """Parse a number."""
    try:
        return float(text.strip())
    except ValueError:
        raise UserError(f"`{text.strip()[:40]}` is not a number.") from None


def parse_user(text: str, community: CommunityRef) -> UserRef:
    """Parse a user mention (either platform's form) or a bare id."""
    word = text.strip()
    match = _USER.match(word)
    if match:
        return UserRef(community, match.group(1))
    if _RAW_ID.match(word) and not word.isalpha():
        return UserRef(community, word)
    raise UserError(f"`{word[:40]}` is not a member; mention them, like @alice.")


def parse_channel(text: str, community: CommunityRef) -> ChannelRef:
    """Parse a channel mention (either platform's form) or a bare id."""
    word = text.strip()
    match = _CHANNEL.match(word)
    if match:
        return ChannelRef(community, match.group(1))
    if _RAW_ID.match(word) and not word.isalpha():
        return ChannelRef(community, word)
    raise UserError(f"`{word[:40]}` is not a channel; mention it, like #general.")


def parse_role(text: str, community: CommunityRef) -> RoleRef:
    """Parse a role (Discord) or user group (Slack) mention, or a bare id."""
    word = text.strip()
    match = _ROLE.match(word)
    if match:
        return RoleRef(community, match.group(1) or match.group(2))
    if _RAW_ID.match(word) and not word.isalpha():
        return RoleRef(community, word)
    raise UserError(f"`{word[:40]}` is not a role; mention it, like @moderators.")


Parser = Callable[[str, CommunityRef], Any]

PARSERS: dict[Any, Parser] = {
    str: lambda text, _where: text.strip(),
    bool: lambda text, _where: parse_bool(text),
    int: lambda text, _where: parse_int(text),
    float: lambda text, _where: parse_float(text),
    timedelta: lambda text, _where: parse_duration(text),
    time: lambda text, _where: parse_time(text),
    ChannelRef: parse_channel,
    RoleRef: parse_role,
    UserRef: parse_user,
}
"""The one table that turns typed text into values, by type: command arguments and settings
are read by it alike (a member comes back as a UserRef, for the adapter to look up)."""


def parse_value(kind: Any, text: str, where: CommunityRef) -> Any:
    """``text`` as a value of type ``kind``; UserError with the expected form when it isn't."""
    parser = PARSERS.get(kind)
    if parser is None:
        raise UserError("That can't be typed in a command yet.")
    return parser(text, where)
