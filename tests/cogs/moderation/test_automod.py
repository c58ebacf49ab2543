"""Automod screening: what fires, what does not, and why (pure; no platform involved)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.moderation._automod import _HOST, Posted, Screen, _word_pattern
from cogs.moderation._explain import explain
from cogs.moderation._flood import Recent
from cogs.moderation._fold import encoded_forms, fold, unleet
from cogs.moderation._rules import Action, Rule, RuleKind, RuleRefused, check_pattern, check_rule


def _say(text: str, *, at: float = 0.0, mentions: int = 0, roles: frozenset[str] = frozenset(),
         channel: str = "general", author: str = "alice") -> Posted:  # fmt: skip
    return Posted(text, author, channel, at, roles, mentions)


def _fired(screen: Screen, message: Posted, recent: Recent | None = None) -> list[int]:
    return [r.id for r in screen.screen(message, recent).fired]


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("this is spam", True),
        ("SPAM!", True),
        ("5p@m here", True),
        ("ѕрам from cyrillic letters", True),
        ("ŝpäm with accents", True),
        ("spammer is a longer word", False),
        ("antispam", False),
        ("s p a m spaced out", False),
    ],
)
def test_blocked_word_is_found_whole_through_case_lookalikes_and_leetspeak(
    text: str, fires: bool
) -> None:
    screen = Screen([Rule(1, RuleKind.WORD, "spam")])
    assert bool(_fired(screen, _say(text))) is fires


def test_blocked_phrase_matches_across_any_spacing() -> None:
    screen = Screen([Rule(1, RuleKind.WORD, "free nitro")])
    assert _fired(screen, _say("get FREE   nitro now")) == [1]
    assert _fired(screen, _say("freenitro")) == []


def test_regex_runs_on_the_text_as_written() -> None:
    screen = Screen([Rule(7, RuleKind.REGEX, r"\b\d{4}-\d{4}-\d{4}-\d{4}\b")])
    assert _fired(screen, _say("card 1234-5678-9012-3456 pls")) == [7]
    assert _fired(screen, _say("card 1234-5678")) == []


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(\w+)\s\1", "RE2 cannot use this pattern"),
        (r"(?<=a)b", "invalid perl operator"),
        (r"a*", "matches an empty message"),
        ("(unclosed", "missing )"),
        ("x" * 501, "longer than 500"),
    ],
)
def test_pattern_re2_cannot_take_is_refused_with_the_reason(pattern: str, why: str) -> None:
    with pytest.raises(RuleRefused, match=re.escape(why)):
        check_pattern(pattern)


def test_pathological_pattern_is_accepted_and_answers_at_once() -> None:
    check_pattern(r"(a+)+$")
    screen = Screen([Rule(1, RuleKind.REGEX, r"(a+)+$")])
    # Python's re needs about 2**40 steps for this text; RE2 reads it once.
    assert _fired(screen, _say("a" * 40 + "!")) == []
    assert _fired(screen, _say("b" + "a" * 40)) == [1]


def test_invites_and_links_by_domain() -> None:
    screen = Screen(
        [
            Rule(1, RuleKind.INVITE),
            Rule(2, RuleKind.LINK_DENY, domains=frozenset({"evil.example"})),
            Rule(3, RuleKind.LINK_ALLOW, domains=frozenset({"docs.python.org", "github.com"})),
        ]
    )
    assert _fired(screen, _say("join discord.gg/abc123")) == [1]
    assert _fired(screen, _say("<https://join.slack.com/t/other|join us>")) == [1, 3]
    assert _fired(screen, _say("see https://cdn.evil.example/x")) == [2, 3]
    assert _fired(screen, _say("read https://docs.python.org/3/ and https://github.com/x")) == []
    assert _fired(screen, _say("evil.example without a scheme is not a link")) == []


def test_a_link_written_in_capitals_is_judged_like_any_other() -> None:
    screen = Screen([Rule(2, RuleKind.LINK_DENY, domains=frozenset({"evil.example"}))])
    assert _fired(screen, _say("go to WWW.EVIL.EXAMPLE now")) == [2]
    assert _fired(screen, _say("go to www.evil.example now")) == [2]
    assert _fired(screen, _say("HTTPS://Evil.Example/x")) == [2]


def test_thresholds_mentions_lines_and_capitals() -> None:
    screen = Screen(
        [
            Rule(1, RuleKind.MENTIONS, limit=5),
            Rule(2, RuleKind.NEWLINES, limit=10),
            Rule(3, RuleKind.CAPS, limit=70),
        ]
    )
    assert _fired(screen, _say("hi all", mentions=4)) == []
    assert _fired(screen, _say("hi all", mentions=5)) == [1]
    assert _fired(screen, _say("\n".join("x" * 9))) == []
    assert _fired(screen, _say("\n".join("x" * 10))) == [2]
    assert _fired(screen, _say("WHY IS NOBODY ANSWERING me")) == [3]
    assert _fired(screen, _say("OK LOL")) == []  # too few letters to judge


def test_flood_counts_only_messages_within_the_window() -> None:
    screen = Screen([Rule(1, RuleKind.FLOOD, limit=3, seconds=5)])
    recent = Recent()
    assert _fired(screen, _say("a", at=0), recent) == []
    assert _fired(screen, _say("b", at=1), recent) == []
    assert _fired(screen, _say("c", at=2), recent) == [1]
    # The counter forgets: after a pause the member starts again from nothing.
    assert _fired(screen, _say("d", at=20), recent) == []
    assert _fired(screen, _say("e", at=21, author="bob"), recent) == []


def test_repeated_text_fires_on_the_nth_copy_in_a_row() -> None:
    screen = Screen([Rule(1, RuleKind.REPEAT, limit=3, seconds=60)])
    recent = Recent()
    fired = [_fired(screen, _say(t, at=i), recent) for i, t in enumerate(["buy", "BUY", "buy"])]
    assert fired == [[], [], [1]]
    assert _fired(screen, _say("other", at=4), recent) == []
    assert _fired(screen, _say("buy", at=5), recent) == []


def test_exemptions_by_role_and_channel_and_dry_run() -> None:
    screen = Screen(
        [
            Rule(1, RuleKind.WORD, "spam", exempt_roles=frozenset({"mods"})),
            Rule(2, RuleKind.WORD, "spam", exempt_channels=frozenset({"memes"})),
            Rule(3, RuleKind.WORD, "spam", dry_run=True),
        ]
    )
    verdict = screen.screen(_say("spam", roles=frozenset({"mods"}), channel="memes"))
    assert [r.id for r in verdict.enforced] == []
    assert [r.id for r in verdict.dry_run] == [3]
    assert [r.id for r in screen.screen(_say("spam")).enforced] == [1, 2]


def test_automod_test_explains_each_rule_and_its_action() -> None:
    screen = Screen(
        [
            Rule(1, RuleKind.WORD, "spam", action=Action.WARN, points=2),
            Rule(2, RuleKind.MENTIONS, limit=3, dry_run=True),
            Rule(3, RuleKind.FLOOD, limit=5, seconds=10),
            Rule(4, RuleKind.WORD, "scam"),
        ]
    )
    lines = explain(screen, _say("5P@M now", mentions=4))
    assert lines == [
        '#1 word: blocked word "spam" found as "5P@M" → warn (2 points)',
        "#2 mentions: 4 mentions (limit 3) → dry run: recorded only",
        "#3 flood: not judged on one text (5 or more messages within 10 s)",
    ]


def test_rules_with_senseless_values_are_refused() -> None:
    with pytest.raises(RuleRefused, match=r"domains like example\.com"):
        check_rule(Rule(1, RuleKind.LINK_DENY, domains=frozenset({"not a domain"})))
    with pytest.raises(RuleRefused, match="percentage"):
        check_rule(Rule(1, RuleKind.CAPS, limit=0))
    with pytest.raises(RuleRefused, match="window"):
        check_rule(Rule(1, RuleKind.FLOOD, limit=3, seconds=0))
    check_rule(Rule(1, RuleKind.REGEX, r"\bfoo\b", action=Action.TIMEOUT, timeout=timedelta(1)))


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
_TEXT = st.text(alphabet="abcdefghij XYZ.!,\n", max_size=80)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(_WORDS, min_size=1, max_size=30, unique=True), text=_TEXT)
def test_combined_word_set_agrees_with_one_python_pattern_per_word(
    words: list[str], text: str
) -> None:
    """The one-pass RE2 set fires exactly the rules that separate patterns fire."""
    screen = Screen([Rule(i, RuleKind.WORD, w) for i, w in enumerate(words)])
    folded = text.lower()
    forms = {folded, folded.replace("!", "i")}
    expected = [
        i
        for i, w in enumerate(words)
        if any(re.search(rf"\b{re.escape(w)}\b", f, re.ASCII) for f in forms)
    ]
    assert _fired(screen, _say(text)) == expected


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=30),
    limit=st.integers(2, 6),
    seconds=st.integers(1, 5),
)
def test_flood_fires_exactly_when_limit_messages_fit_in_the_window(
    times: list[float], limit: int, seconds: int
) -> None:
    screen = Screen([Rule(1, RuleKind.FLOOD, limit=limit, seconds=seconds)])
    recent = Recent()
    at = 0.0
    seen: list[float] = []
    for gap in times:
        at += gap * 3
        seen.append(at)
        fired = _fired(screen, _say("x", at=at), recent) == [1]
        in_window = [t for t in seen if t >= at - seconds]
        assert fired is (len(in_window) >= limit)


_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(_ANY_TEXT, st.text(alphabet="aB3!@ é\u0301ѕ$|+€", max_size=40)))
def test_encoded_forms_are_the_folded_forms_as_utf8(text: str) -> None:
    """The byte forms RE2 reads are exactly fold and unleet, whatever the script."""
    assert encoded_forms(text) == (
        text.encode(),
        fold(text).encode(),
        unleet(fold(text)).encode(),
    )


_MIXED = st.text(alphabet="abcABC .!:/w3@é\n", max_size=60)
_SCREENED = [
    Rule(1, RuleKind.WORD, "abc"),
    Rule(2, RuleKind.WORD, "ca b"),
    Rule(3, RuleKind.REGEX, r"[A-C]{2}\b"),
    Rule(4, RuleKind.REGEX, r"b\.a"),
    Rule(5, RuleKind.LINK_DENY, domains=frozenset({"abc.cab"})),
    Rule(6, RuleKind.WORD, "aaa"),
]


def _expected(text: str) -> list[int]:
    """Each rule judged on its own with Python's re, the slow and obvious way."""
    folded = fold(text)
    forms = (folded, unleet(folded))
    fired = [
        r.id
        for r in _SCREENED
        if (
            r.kind is RuleKind.WORD
            and any(re.search(_word_pattern(r.pattern), f, re.ASCII) for f in forms)
        )
        or (r.kind is RuleKind.REGEX and re.search(r.pattern, text, re.ASCII))
    ]
    hosts = [h.lower().rstrip(".") for h in _HOST.findall(text)]
    if any(h == "abc.cab" or h.endswith(".abc.cab") for h in hosts):
        fired.append(5)
    return sorted(fired)


@settings(max_examples=500, deadline=None)
@given(text=_MIXED)
def test_one_pass_screen_agrees_with_each_rule_judged_alone(text: str) -> None:
    """Lower-case text takes one combined pass, other text two; both fire what each rule would."""
    assert _fired(Screen(_SCREENED), _say(text)) == _expected(text)


def test_a_message_with_a_lone_surrogate_is_screened_like_any_other() -> None:
    """JSON can carry a lone surrogate ("\\ud800"), which is not UTF-8: the screen reads it as
    "?" and still judges the rest of the message, rather than failing the event."""
    assert _fired(Screen(_SCREENED), _say("é abc \ud800 b.a")) == [1, 4]
