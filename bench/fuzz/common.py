"""What every fuzz target shares: splitting the fuzzer's bytes into fields, and the checks that
hold for any input (no active mention in text Steward sends; text that is valid Unicode)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.ids import CommunityRef

ACTIVE = re.compile(r"@(everyone|here|channel)|＠(everyone|here)|<[@!]", re.IGNORECASE)
"""An active mention in text Steward sends (neutral text or Slack mrkdwn): @everyone, @here,
@channel, ``<@…>``, ``<@&…>``, ``<!…>``; neutralised ones carry a zero-width space."""
COMMUNITY = CommunityRef("slack", "T1")
PYTHON_WORDS = ("invalid literal", "Exceeds the limit", "Traceback", "object has no attribute")
"""Phrases of Python's own errors: a refusal that carries one is not in Steward's words."""


def fields(data: bytes, n: int) -> list[str]:
    """``n`` text fields from the fuzzer's bytes, split at NUL, decoded leniently."""
    parts = data.split(b"\0", n - 1)
    parts += [b""] * (n - len(parts))
    return [p.decode("utf-8", "replace") for p in parts]


def pick(data: bytes, choices: int) -> tuple[int, bytes]:
    """The first byte as a choice among ``choices`` (0 for no bytes), and the rest."""
    return (data[0] % choices, data[1:]) if data else (0, b"")


def no_ping(text: str, where: str) -> None:
    """Fail when ``text`` (about to be sent) could ping someone."""
    found = ACTIVE.search(text)
    if found is not None:
        raise AssertionError(f"active mention {found.group(0)!r} in {where}: {text[:200]!r}")


def friendly(message: str, where: str) -> None:
    """Fail when a refusal shown to a person pings, or speaks Python rather than Steward."""
    from bot.adapters.slack.text import to_mrkdwn

    no_ping(to_mrkdwn(message), where)
    for words in PYTHON_WORDS:
        assert words not in message, f"Python's words in {where}: {message[:200]!r}"


def sendable(texts: Iterable[str | None], where: str) -> None:
    """Fail when text Steward would store or send cannot be encoded (a lone surrogate)."""
    for text in texts:
        if text is not None:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise AssertionError(f"not valid Unicode in {where}: {text[:200]!r}") from exc
