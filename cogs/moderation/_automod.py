"""The automod screen: every rule of a community compiled once, each message checked fast (pure).

Word and regular-expression rules become RE2 sets (one pass over the folded text for every
blocked word, one over the text as written for every pattern, or a single pass when the two
texts are the same), so the cost of a message barely grows with the number of rules and no
pattern can backtrack. The folded pass also says whether the text may hold a link, so most
messages never reach the link rules. Threshold rules (mentions, lines, capitals) are sorted so a
message finds the ones it crosses by bisection; link rules look hosts up in dictionaries. Flood
and repeat rules read the author's recent messages from ``Recent``. Exemptions are read only for
the rules a message fired (``scan``, then ``verdict``).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import re2

from cogs.moderation._flood import Recent
from cogs.moderation._fold import encoded_forms, fold, unleet
from cogs.moderation._rules import CAPS_MIN_LETTERS, Rule, RuleKind, re2_options

# A host after a scheme or "www."; Slack wraps links as <https://host/path|label>.
_HOST = re.compile(r"(?i)(?:https?://|\bwww\.)([a-z0-9.-]+\.[a-z]{2,})")
_INVITE = re.compile(
    r"(?i)\b(?:discord(?:app)?\.com/invite|discord\.gg|dsc\.gg|join\.slack\.com/t)/[\w-]+"
)
LINK_HINT = r"discord|dsc\.gg|slack\.com|://|www\."
"""Something every invite or link the link rules look for contains, once the text is folded
(folded, "WWW.example.com" holds "www." too); a text without it needs no closer look."""
_UPPER = bytes(range(65, 91))
_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_NOT_UPPER = bytes(b for b in range(256) if b not in _UPPER)
_NOT_LETTER = bytes(b for b in range(256) if b not in _LETTERS)


@dataclass(frozen=True, slots=True)
class Posted:
    """A message to screen, as plain values (its text is never stored by the screen)."""

    text: str
    author: str
    channel: str
    at: float  # seconds, from the feature's clock
    roles: frozenset[str] = frozenset()
    mentions: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rules a message fired: those that act, and those in dry run (recorded only)."""

    enforced: tuple[Rule, ...] = ()
    dry_run: tuple[Rule, ...] = ()

    @property
    def fired(self) -> tuple[Rule, ...]:
        """Every rule that fired, acting or not."""
        return self.enforced + self.dry_run


CLEAN = Verdict()


def _word_pattern(word: str) -> str:
    """A whole-word pattern for a blocked word, on folded text."""
    folded = " ".join(unleet(fold(word)).split())
    body = re.escape(folded).replace(r"\ ", r"\s+")
    head = r"\b" if folded[:1].isalnum() else ""
    tail = r"\b" if folded[-1:].isalnum() else ""
    return f"{head}{body}{tail}"


@dataclass
class _Thresholds:
    """Rules of one threshold kind, sorted by limit, so a value finds its rules by bisection."""

    limits: list[int] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    least: float = math.inf
    """The lowest limit: a smaller value crosses nothing."""

    def add(self, rule: Rule) -> None:
        """File a rule at its limit."""
        at = bisect.bisect_right(self.limits, rule.limit)
        self.limits.insert(at, rule.limit)
        self.rules.insert(at, rule)
        self.least = self.limits[0]

    def crossed(self, value: int) -> list[Rule]:
        """The rules whose limit ``value`` reaches."""
        return self.rules[: bisect.bisect_right(self.limits, value)]


class Screen:
    """One community's rules, compiled; ``screen`` judges a message, ``explain`` says why."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._words: list[Rule] = []
        self._regexes: list[Rule] = []
        self._invites: list[Rule] = []
        self._deny: dict[str, list[Rule]] = {}
        self._allow: list[tuple[Rule, frozenset[str]]] = []
        self._mentions = _Thresholds()
        self._newlines = _Thresholds()
        self._caps = _Thresholds()
        self._floods: list[Rule] = []
        self._repeats: list[Rule] = []
        for rule in self.rules:
            self._file(rule)
        self._links = bool(self._invites or self._deny or self._allow)
        # The folded text's set holds every blocked word and, when there are link rules, the
        # link hint (at index ``_hint``, standing for no rule), so the same pass says whether
        # the text may hold a link at all.
        folded_rules: list[Rule | None] = list(self._words)
        folded = [_word_pattern(r.pattern) for r in self._words]
        self._hint = len(folded) if self._links else -1
        if self._links:
            folded_rules.append(None)
            folded.append(LINK_HINT)
        regexes = [r.pattern for r in self._regexes]
        self._folded_rules = folded_rules
        self._folded_set = self._compile(folded)
        self._regex_set = self._compile(regexes)
        # A text already in folded form (no capitals, accents or look-alikes: most chat) is
        # searched for both in one pass: an RE2 set costs about the same per call whatever
        # its size, so this spares most messages a whole pass.
        self._both_rules = folded_rules + list(self._regexes)
        self._both_set = self._compile_both(folded + regexes) if folded and regexes else None
        self._stateful = bool(self._floods or self._repeats)
        self._flood_depth = max((r.limit for r in self._floods), default=0)

    def _file(self, rule: Rule) -> None:
        """Put a rule where its kind is checked."""
        kind = rule.kind
        if kind is RuleKind.WORD:
            self._words.append(rule)
        elif kind is RuleKind.REGEX:
            self._regexes.append(rule)
        elif kind is RuleKind.INVITE:
            self._invites.append(rule)
        elif kind is RuleKind.LINK_DENY:
            for domain in rule.domains:
                self._deny.setdefault(domain.lower(), []).append(rule)
        elif kind is RuleKind.LINK_ALLOW:
            self._allow.append((rule, frozenset(d.lower() for d in rule.domains)))
        elif kind is RuleKind.MENTIONS:
            self._mentions.add(rule)
        elif kind is RuleKind.NEWLINES:
            self._newlines.add(rule)
        elif kind is RuleKind.CAPS:
            self._caps.add(rule)
        elif kind is RuleKind.FLOOD:
            self._floods.append(rule)
        else:
            self._repeats.append(rule)

    @staticmethod
    def _compile(patterns: Sequence[str]) -> re2.Set | None:
        """One RE2 set for many patterns (None when there are none)."""
        if not patterns:
            return None
        matcher = re2.Set.SearchSet(re2_options())
        for pattern in patterns:
            matcher.Add(pattern)
        matcher.Compile()
        return matcher

    @classmethod
    def _compile_both(cls, patterns: Sequence[str]) -> re2.Set | None:
        """The combined set, or None when RE2 wants more memory for it than for the two apart
        (each text then takes the two passes)."""
        try:
            return cls._compile(patterns)
        except re2.error:
            return None

    def pattern_hits(self, text: bytes, folded: bytes, leet: bytes) -> tuple[list[Rule], bool]:
        """The word and regex rules the text fires, and whether it may hold a link.

        The forms are ``encoded_forms``: the text as written, folded, and folded with leetspeak
        read as letters, each UTF-8. A rule may appear twice; the verdict counts it once.
        """
        hits: list[Rule] = []
        linkish = False
        hint = self._hint
        if text == folded and self._both_set is not None:
            linkish = _search(self._both_set, self._both_rules, hint, text, hits)
        else:
            if self._folded_set is not None:
                linkish = _search(self._folded_set, self._folded_rules, hint, folded, hits)
            if self._regex_set is not None:
                _search(self._regex_set, self._regexes, -1, text, hits)
        # Leetspeak is read only as a second chance: "hello!" must still end in a word
        # boundary, while "h3ll0" must still be found.
        if self._words and leet != folded:
            _search(self._folded_set, self._folded_rules, hint, leet, hits)
        return hits, linkish

    def screen(self, message: Posted, recent: Recent | None = None) -> Verdict:
        """The rules ``message`` fires; flood and repeat rules count in ``recent`` (None: skip)."""
        hits = self.scan(message, recent)
        return self.verdict(hits, message.channel, message.roles) if hits else CLEAN

    def scan(self, message: Posted, recent: Recent | None = None) -> list[Rule]:
        """The rules ``message`` would fire before exemptions (``message.roles`` is not read).

        Most messages fire nothing, so a caller can leave a member's roles unread until this
        finds something (``verdict``).
        """
        text = message.text
        raw, folded, leet = encoded_forms(text)
        hits, linkish = self.pattern_hits(raw, folded, leet)
        if linkish:
            self._link_hits(text, hits)
        mentions = message.mentions
        if mentions and mentions >= self._mentions.least:
            hits.extend(self._mentions.crossed(mentions))
        if self._newlines.rules:
            lines = text.count("\n") + 1
            if lines >= self._newlines.least:
                hits.extend(self._newlines.crossed(lines))
        # Folding lower-cases, so a text equal to its folded form has no capitals to count.
        if self._caps.rules and len(text) >= CAPS_MIN_LETTERS and folded != raw:
            hits.extend(self._caps.crossed(caps_percent(text)))
        if self._stateful and recent is not None:
            hits.extend(self._rate_hits(message, folded.decode().strip(), recent))
        return hits

    def _link_hits(self, text: str, hits: list[Rule]) -> None:
        """Add the invite and domain rules fired by the links in ``text`` to ``hits``."""
        if self._invites and _INVITE.search(text):
            hits.extend(self._invites)
        hosts = [h.lower().rstrip(".") for h in _HOST.findall(text)]
        seen: set[int] = set()
        for host in hosts:
            for suffix in _suffixes(host):
                for rule in self._deny.get(suffix, ()):
                    if rule.id not in seen:
                        seen.add(rule.id)
                        hits.append(rule)
        for rule, allowed in self._allow:
            if any(not (allowed & set(_suffixes(h))) for h in hosts):
                hits.append(rule)

    def _rate_hits(self, message: Posted, key: str, recent: Recent) -> list[Rule]:
        """Flood and repeat rules fired by this message (``key``: its folded text)."""
        history = recent.record(message.author, message.at, key, self._flood_depth)
        hits = [r for r in self._floods if history.count_within(r.seconds, r.limit) >= r.limit]
        hits.extend(r for r in self._repeats if history.repeats_within(r.seconds) >= r.limit)
        return hits

    def verdict(self, hits: list[Rule], channel: str, roles: Iterable[str]) -> Verdict:
        """Split fired rules into acting and dry run, leaving out those exempting the channel or
        one of the author's ``roles`` (read only when a fired rule exempts a role)."""
        if not hits:
            return CLEAN
        role_ids: frozenset[str] | None = None
        enforced: list[Rule] = []
        dry: list[Rule] = []
        seen: set[int] = set()
        for rule in hits:
            if rule.id in seen or channel in rule.exempt_channels:
                continue
            if rule.exempt_roles:
                if role_ids is None:
                    role_ids = frozenset(roles)
                if not rule.exempt_roles.isdisjoint(role_ids):
                    continue
            seen.add(rule.id)
            (dry if rule.dry_run else enforced).append(rule)
        key = _rule_order
        return Verdict(tuple(sorted(enforced, key=key)), tuple(sorted(dry, key=key)))


def _search(
    matcher: re2.Set | None, rules: Sequence[Rule | None], hint: int, text: bytes, hits: list[Rule]
) -> bool:
    """Add the rules ``matcher`` finds in ``text`` to ``hits``; whether it found the link hint."""
    found = matcher.Match(text) if matcher is not None else None
    if not found:
        return False
    hits.extend([r for r in map(rules.__getitem__, found) if r is not None])
    return hint in found


def _rule_order(rule: Rule) -> int:
    """Rules are reported in the order they were made."""
    return rule.id


def _suffixes(host: str) -> list[str]:
    """``a.b.example.com`` -> itself, ``b.example.com``, ``example.com``, ``com``."""
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def caps_percent(text: str) -> int:
    """The share of letters that are capitals, in whole percent (0 with too few letters)."""
    if text.isascii():
        raw = text.encode()
        letters = len(raw.translate(None, _NOT_LETTER))
        upper = len(raw.translate(None, _NOT_UPPER))
    else:
        letters = sum(c.isalpha() for c in text)
        upper = sum(c.isupper() for c in text)
    if letters < CAPS_MIN_LETTERS:
        return 0
    return upper * 100 // letters
