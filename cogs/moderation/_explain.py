"""Why rules fire, in a moderator's words: for ``automod test`` and for the evidence on a case."""

from __future__ import annotations

import re2

from bot.core.message import plural
from cogs.moderation._automod import _HOST, _INVITE, Posted, Screen, _word_pattern, caps_percent
from cogs.moderation._fold import fold, unleet
from cogs.moderation._rules import Action, Rule, RuleKind, re2_options

_SHOWN = 60  # characters of matched text quoted back


def _quote(text: str) -> str:
    """A short quotation of matched text, on one line."""
    flat = " ".join(text.split())
    return f'"{flat[:_SHOWN]}…"' if len(flat) > _SHOWN else f'"{flat}"'


def _word_found(rule: Rule, text: str) -> str:
    """Where a blocked word was found, quoting the text as written when possible."""
    pattern = re2.compile(_word_pattern(rule.pattern), re2_options())
    folded = fold(text)
    for form in (folded, unleet(folded)):
        match = pattern.search(form)
        if match is not None:
            start, end = match.span()
            # Folding keeps ASCII text the same length, so the span points into the original.
            shown = text[start:end] if len(text) == len(form) else form[start:end]
            return f"blocked word {_quote(rule.pattern)} found as {_quote(shown)}"
    return f"blocked word {_quote(rule.pattern)}"


def reason(rule: Rule, message: Posted) -> str:
    """Why ``rule`` fired on ``message``."""
    text = message.text
    kind = rule.kind
    if kind is RuleKind.WORD:
        return _word_found(rule, text)
    if kind is RuleKind.REGEX:
        match = re2.compile(rule.pattern, re2_options()).search(text)
        found = _quote(match.group(0)) if match is not None else "the text"
        return f"pattern `{rule.pattern}` matched {found}"
    if kind is RuleKind.INVITE:
        invite = _INVITE.search(text)
        return f"an invite link ({invite.group(0) if invite else 'link'})"
    hosts = sorted({h.lower() for h in _HOST.findall(text)})
    if kind is RuleKind.LINK_DENY:
        return f"a link to a blocked domain ({', '.join(hosts)})"
    if kind is RuleKind.LINK_ALLOW:
        return f"a link to a domain that is not allowed ({', '.join(hosts)})"
    if kind is RuleKind.MENTIONS:
        return f"{message.mentions} mentions (limit {rule.limit})"
    if kind is RuleKind.NEWLINES:
        return f"{text.count(chr(10)) + 1} lines (limit {rule.limit})"
    if kind is RuleKind.CAPS:
        return f"{caps_percent(text)}% capitals (limit {rule.limit}%)"
    if kind is RuleKind.FLOOD:
        return f"{rule.limit} or more messages within {rule.seconds} s"
    return f"the same text {rule.limit} times within {rule.seconds} s"


def consequence(rule: Rule) -> str:
    """What the rule does when it fires."""
    if rule.dry_run:
        return "dry run: recorded only"
    if rule.action is Action.WARN:
        return f"warn ({plural(rule.points, 'point')})"
    if rule.action is Action.TIMEOUT and rule.timeout is not None:
        return f"timeout ({rule.timeout})"
    return {Action.DELETE: "delete", Action.ALERT: "alert the staff"}.get(rule.action, "timeout")


def explain(screen: Screen, message: Posted) -> list[str]:
    """One line per rule ``message`` fires, saying why and what it would do.

    Flood and repeat rules depend on a member's pace, not on one text, so they are listed apart.
    """
    verdict = screen.screen(message, None)
    lines = [
        f"#{r.id} {r.kind.value}: {reason(r, message)} → {consequence(r)}" for r in verdict.fired
    ]
    paced = [r for r in screen.rules if r.kind in (RuleKind.FLOOD, RuleKind.REPEAT)]
    lines.extend(
        f"#{r.id} {r.kind.value}: not judged on one text ({reason(r, message)})" for r in paced
    )
    return lines
