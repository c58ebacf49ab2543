"""Automod screening: 1,000 rules of mixed kinds, RE2 sets versus one Python ``re`` per rule.

Both variants screen the same messages against the same rules in the same run; the baseline is
the engine itself with its two RE2 passes replaced by a loop over one compiled ``re`` pattern per
word and regex rule (what a bot without a combined matcher does). Every verdict is compared and
the run stops if any differ. A pathological pattern, ``(a+)+$``, is one of the rules; the last
rows time a message built to make it backtrack, beside a clean chat message of the same length:
RE2 reads it like any other, while Python's ``re`` needs about 2**n steps for n letters (so it
gets only 20 of them, and 3 tries).

Run alone with ``python -m bench.automod_screen [--n 20000]``, or through ``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable
from dataclasses import replace

from bench._common import Row, percentile_ms
from cogs.moderation._automod import LINK_HINT, Posted, Screen, _word_pattern
from cogs.moderation._flood import Recent
from cogs.moderation._rules import Rule, RuleKind

NAME = "automod_screen"
PATHOLOGICAL = r"(a+)+$"
_ROLES = [frozenset(), frozenset({"members"}), frozenset({"members", "mods"}), frozenset({"vip"})]
_SYLLABLES = ["ka", "lo", "mi", "ran", "to", "ver", "sel", "di", "nor", "pa", "qu", "zen", "fi"]


def _word(rng: random.Random) -> str:
    """A made-up word of two to four syllables."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def make_rules(rng: random.Random) -> list[Rule]:
    """1,000 rules: 600 words, 300 regexes (one pathological), 100 of the other kinds."""
    rules: list[Rule] = []
    for _ in range(600):
        rules.append(Rule(len(rules), RuleKind.WORD, _word(rng)))
    shapes = [
        lambda a, b: rf"\b{a}\d{{2,}}\b",
        lambda a, b: rf"(?i){a}\s+{b}",
        lambda a, b: rf"{a}[._-]?{b}",
        lambda a, b: rf"\b{a}(?:s|es)?\b",
        lambda a, b: rf"[a-z]+{a}[0-9]",
        lambda a, b: rf"{a}.{{0,10}}{b}",
    ]
    for i in range(299):
        pattern = shapes[i % len(shapes)](_word(rng), _word(rng))
        rules.append(Rule(len(rules), RuleKind.REGEX, pattern))
    rules.append(Rule(len(rules), RuleKind.REGEX, PATHOLOGICAL))
    for i in range(20):
        domains = frozenset({f"{_word(rng)}.example", f"{_word(rng)}.test"})
        rules.append(Rule(len(rules), RuleKind.LINK_DENY, domains=domains))
        if i == 0:
            rules.append(Rule(len(rules), RuleKind.INVITE))
    for i in range(79):
        kind = (RuleKind.MENTIONS, RuleKind.NEWLINES, RuleKind.CAPS)[i % 3]
        limit = 50 + i if kind is RuleKind.CAPS else 5 + i
        rules.append(Rule(len(rules), kind, limit=limit))
    # Communities spare their staff and a channel or two: every 7th rule exempts a role and
    # every 11th a channel, so verdicts also depend on who posts where.
    return [
        replace(
            r,
            exempt_roles=frozenset({"mods"}) if r.id % 7 == 0 else frozenset(),
            exempt_channels=frozenset({"memes"}) if r.id % 11 == 0 else frozenset(),
        )
        for r in rules[:1000]
    ]


def make_messages(rng: random.Random, rules: list[Rule], n: int) -> list[Posted]:
    """Chat-like messages; about one in ten carries a blocked word, a link or many mentions.

    One in ten is posted in an exempt channel; a quarter of the authors hold an exempt role."""
    words = [r.pattern for r in rules if r.kind is RuleKind.WORD]
    common = [
        "the",
        "a",
        "to",
        "and",
        "is",
        "it",
        "you",
        "that",
        "of",
        "for",
        "on",
        "this",
        "with",
        "was",
        "but",
        "have",
        "are",
        "not",
    ]
    messages: list[Posted] = []
    for i in range(n):
        parts = [rng.choice(common) for _ in range(rng.randint(3, 18))]
        roll = rng.random()
        if roll < 0.05:
            parts.insert(rng.randrange(len(parts)), rng.choice(words))
        elif roll < 0.07:
            parts.append(f"https://{_word(rng)}.example/x")
        elif roll < 0.08:
            parts.append(rng.choice(common).upper() * 3)
        text = " ".join(parts)
        if rng.random() < 0.1:
            text = text.capitalize() + "!"
        mentions = 6 if i % 25 == 0 else i % 3
        channel = "memes" if i % 10 == 0 else "general"
        roles = _ROLES[i % len(_ROLES)]
        messages.append(Posted(text, f"u{i % 500}", channel, i * 0.05, roles, mentions))
    return messages


class PerRuleScreen(Screen):
    """The same engine, but word and regex rules each run as their own Python ``re`` pattern."""

    def __init__(self, rules: list[Rule]) -> None:
        super().__init__(rules)
        self._word_res = [(r, re.compile(_word_pattern(r.pattern), re.ASCII)) for r in self._words]
        self._regex_res = [(r, re.compile(r.pattern, re.ASCII)) for r in self._regexes]
        self._hint_re = re.compile(LINK_HINT)

    def pattern_hits(self, text: bytes, folded: bytes, leet: bytes) -> tuple[list[Rule], bool]:
        """Each word and regex rule searched on its own, on the same forms as ``str``."""
        forms = (folded.decode(), leet.decode())
        hits = [r for r, p in self._word_res if any(p.search(f) for f in forms)]
        hits.extend(r for r, p in self._regex_res if p.search(text.decode()))
        return hits, self._hint_re.search(forms[0]) is not None


def _timed(screen_one: Callable[[Posted], object], messages: list[Posted]) -> list[float]:
    """Seconds per message."""
    durations = []
    clock = time.perf_counter
    for message in messages:
        start = clock()
        screen_one(message)
        durations.append(clock() - start)
    return durations


def _throughput(screen: Screen, messages: list[Posted]) -> tuple[float, float]:
    """Messages screened per second in one pass, by the wall clock and by this thread's CPU
    time (one core's worth, whatever else the shared machine runs); the caller keeps the best
    of a few passes."""
    start, cpu = time.perf_counter(), time.thread_time()
    for message in messages:
        screen.screen(message, None)
    wall, used = time.perf_counter() - start, time.thread_time() - cpu
    return len(messages) / wall, len(messages) / max(used, 1e-9)


def _length(message: Posted) -> int:
    return len(message.text)


def _row(variant: str, durations: list[float], base: list[float] | None) -> Row:
    """A table row; ratios against ``base`` (itself when None)."""
    base = base or durations
    p50, p99 = percentile_ms(durations, 0.5), percentile_ms(durations, 0.99)
    return Row(
        NAME,
        variant,
        len(durations),
        p50,
        p99,
        p50 / percentile_ms(base, 0.5),
        p99 / percentile_ms(base, 0.99),
    )


def measure(n: int) -> list[Row]:
    """Screen ``n`` messages both ways, check the verdicts agree, and time the pathological one."""
    rng = random.Random(16)
    rules = make_rules(rng)
    messages = make_messages(rng, rules, n)
    fast, slow = Screen(rules), PerRuleScreen(rules)
    fast_recent, slow_recent = Recent(), Recent()
    for message in messages:
        a = fast.screen(message, fast_recent)
        b = slow.screen(message, slow_recent)
        if a != b:
            raise SystemExit(f"verdicts differ on {message.text!r}: {a} != {b}")
    fired = sum(1 for m in messages if fast.screen(m, None).fired)
    baseline = _timed(lambda m: slow.screen(m, None), messages[: max(n // 20, 200)])
    passes = [_throughput(fast, messages) for _ in range(3)]
    per_second, per_core = max(p[0] for p in passes), max(p[1] for p in passes)
    ours = _timed(lambda m: fast.screen(m, None), messages)
    slow_per_second = 1 / (sum(baseline) / len(baseline))
    # The bait is as long as the longest clean message, which is timed beside it: a message's
    # cost grows with its length, so that one is "any other" message of the bait's size.
    plain = max((m for m in messages[:1000] if not fast.screen(m, None).fired), key=_length)
    typical = len(plain.text)
    nasty = Posted("a" * (typical - 1) + "!", "u", "general", 0.0)
    ours_plain = _timed(lambda m: fast.screen(m, None), [plain] * 2000)
    ours_nasty = _timed(lambda m: fast.screen(m, None), [nasty] * 2000)
    slow_nasty = _timed(
        lambda m: slow.screen(m, None), [Posted("a" * 20 + "!", "u", "general", 0.0)] * 3
    )
    return [
        _row(f"python re per rule ({slow_per_second:,.0f} msg/s)", baseline, None),
        _row(
            f"re2 sets ({per_second:,.0f} msg/s, {per_core:,.0f} per core-second of CPU; "
            f"{fired} of {n} fire; verdicts equal)",
            ours,
            baseline,
        ),
        _row(f"re2 sets, a clean message of {typical} chars", ours_plain, ours),
        _row(
            f"re2 sets, (a+)+$ bait of {typical} chars (ratio: to the clean one)",
            ours_nasty,
            ours_plain,
        ),
        _row("python re per rule, (a+)+$ bait of 21 chars", slow_nasty, baseline),
    ]


def run(n: int = 20_000) -> list[Row]:
    """For bench/run.py: ``n`` messages."""
    return measure(max(n, 1_000))


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.automod_screen")
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    from bench.run import print_table

    print_table(run(args.n))


if __name__ == "__main__":
    main()
