"""Automod rules as plain values, and the check a regular expression passes before it is saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import re2

MAX_PATTERN_LENGTH = 500
"""Longest regular expression a manager may save, in characters."""

CAPS_MIN_LETTERS = 10
"""A message with fewer letters than this is never judged for capitals ("OK", "LOL")."""

_RE2_MEMORY = 64 << 20  # one rule's compiled program; RE2 refuses patterns that need more


class RuleKind(StrEnum):
    """What a rule looks for."""

    WORD = "word"  # a blocked word or phrase, whole words, after folding (see _fold)
    REGEX = "regex"  # a regular expression (RE2 syntax) on the text as written
    INVITE = "invite"  # an invite link to another Discord server or Slack workspace
    LINK_DENY = "link_deny"  # a link to one of the listed domains (or their subdomains)
    LINK_ALLOW = "link_allow"  # a link to any domain not listed
    MENTIONS = "mentions"  # at least `limit` mentions in one message
    FLOOD = "flood"  # at least `limit` messages by one member within `seconds`
    REPEAT = "repeat"  # the same text `limit` times in a row within `seconds`
    CAPS = "caps"  # at least `limit` percent of the letters are capitals
    NEWLINES = "newlines"  # at least `limit` lines in one message


class Action(StrEnum):
    """What a rule does when it fires (and is not in dry run)."""

    DELETE = "delete"
    WARN = "warn"
    TIMEOUT = "timeout"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Rule:
    """One automod rule of a community."""

    id: int
    kind: RuleKind
    pattern: str = ""
    domains: frozenset[str] = frozenset()
    limit: int = 0
    seconds: int = 0
    action: Action = Action.ALERT
    points: int = 0
    timeout: timedelta | None = None
    dry_run: bool = False
    exempt_roles: frozenset[str] = frozenset()
    exempt_channels: frozenset[str] = frozenset()


class RuleRefused(ValueError):
    """A rule that cannot be saved; the message says why, in words a manager understands."""


def re2_options() -> re2.Options:
    """The RE2 options every automod pattern is compiled with."""
    options = re2.Options()
    options.max_mem = _RE2_MEMORY
    options.log_errors = False  # a refused pattern is answered to the manager, not logged
    return options


def check_pattern(pattern: str) -> None:
    """Refuse a regular expression RE2 cannot run, or one that would fire on every message."""
    if not pattern:
        raise RuleRefused("The pattern is empty.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RuleRefused(f"The pattern is longer than {MAX_PATTERN_LENGTH} characters.")
    try:
        compiled = re2.compile(pattern, re2_options())
    except re2.error as exc:
        # RE2 runs in linear time because it has no backreferences or look-around; it names
        # what it could not take (for example "invalid perl operator: (?<").
        raise RuleRefused(f"RE2 cannot use this pattern: {_re2_reason(exc)}.") from None
    if compiled.search("") is not None:
        raise RuleRefused("The pattern matches an empty message, so it would fire on everything.")


def check_rule(rule: Rule) -> None:
    """Refuse a rule whose values make no sense for its kind, saying what to change."""
    if rule.kind is RuleKind.REGEX:
        check_pattern(rule.pattern)
    elif rule.kind is RuleKind.WORD:
        if not rule.pattern.strip():
            raise RuleRefused("A blocked word cannot be empty.")
    elif rule.kind in (RuleKind.LINK_ALLOW, RuleKind.LINK_DENY):
        bad = [d for d in rule.domains if not _DOMAIN.fullmatch(d)]
        if not rule.domains or bad:
            raise RuleRefused("List domains like example.com, separated by spaces.")
    elif rule.kind is RuleKind.CAPS:
        if not 1 <= rule.limit <= 100:
            raise RuleRefused("The capitals limit is a percentage from 1 to 100.")
    elif rule.kind is not RuleKind.INVITE and rule.limit < 2:
        raise RuleRefused("The limit must be at least 2.")
    if rule.kind in (RuleKind.FLOOD, RuleKind.REPEAT) and not 1 <= rule.seconds <= 3600:
        raise RuleRefused("The window must be from 1 second to 1 hour.")


_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")


def _re2_reason(exc: BaseException) -> str:
    """RE2's own words for a refused pattern, without the library's wrapping."""
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.strip().rstrip(".") or "it is not a valid pattern"
