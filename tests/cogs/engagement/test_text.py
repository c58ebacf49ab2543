"""The text scores against labelled chat messages and against the reference VADER."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    BOOSTER_DICT,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from bench.engagement_text import QUESTION_CORPORA, detection, labelled, sentences
from cogs.engagement._sentiment import sentiment
from cogs.engagement._text import is_question

REFERENCE = SentimentIntensityAnalyzer()
_MODIFIERS = (
    "but BUT not no very VERY kind of least at never so this without doubt the a is "
    "GOOD Bad don't isn't nor or shit ass yeah right sort kinda :) 😁 💘 ! ?? LOL"
)
_WORDS = [*sorted(REFERENCE.lexicon)[::7], *_MODIFIERS.split()]


@pytest.mark.parametrize("corpus", QUESTION_CORPORA)
def test_question_detection_meets_its_goal_on_labelled_chat(corpus: str) -> None:
    found = detection(corpus)
    assert found.n >= 90 and sum(1 for label, _ in labelled(corpus) if not label) >= 40
    assert found.precision >= 0.9, found.wrong
    assert found.recall >= 0.85, found.missed


def test_questions_without_a_question_mark_are_found_and_rhetoric_is_not() -> None:
    for asked in (
        "Does the free plan include webhooks",
        "any update on the release",
        "anyone around",
    ):
        assert is_question(asked), asked
    for said in ("who doesn't love a good refactor?", "see https://example.com/?page=2", "`a ? b`"):
        assert not is_question(said), said


def test_sentiment_matches_vader_on_every_message_of_the_corpora() -> None:
    texts = sentences()
    assert len(texts) >= 500
    gaps = {t: abs(REFERENCE.polarity_scores(t)["compound"] - sentiment(t)) for t in texts}
    worst = max(gaps, key=gaps.__getitem__)
    assert gaps[worst] <= 0.02, worst


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=14), st.sampled_from(["", "!", "??"]))
def test_sentiment_matches_vader_on_any_mix_of_its_rules(words: list[str], end: str) -> None:
    text = " ".join(words) + end
    assert abs(REFERENCE.polarity_scores(text)["compound"] - sentiment(text)) <= 0.02


def test_sentiment_is_the_same_when_its_word_memory_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tokens remembered between messages are dropped every few words here: each message,
    scored once, again, and after a flush, still scores as the reference does."""
    from cogs.engagement import _sentiment

    monkeypatch.setattr(_sentiment, "_WORDS_KEPT", 7)
    _sentiment.forget_tokens()  # earlier tests filled it past 7: start as a fresh process would
    for text in sentences()[:200]:
        want = REFERENCE.polarity_scores(text)["compound"]
        assert abs(sentiment(text) - want) <= 0.02, text
        assert abs(sentiment(text) - want) <= 0.02, text
        # At most 7 tokens kept, or one message's own (emoji as their words) when it holds more.
        tokens = text.translate(_sentiment._lexicons()[1]).split()
        assert len(_sentiment._SEEN) <= max(7, len(tokens)), text
    assert set(_sentiment._WORDS) <= _sentiment._SEEN
    assert set(_sentiment._VALUES) == _sentiment._FELT <= _sentiment._SEEN


@pytest.mark.parametrize(
    "text",
    [
        "the deploy was GREAT and the docs are nice",  # a shouted sentiment word, no rule word
        "GREAT news everyone, the build is GREAT",  # shouted twice
        "I love it",  # "I" in capitals: the message is not all capitals
        "THE BUILD IS GREAT",  # all capitals: no emphasis
        "that bot is the shit, great work",  # an idiom beside a sentiment word
        "the fix for the bug is nice",  # idiom words, but no two in a row of one
        "good docs but awful bot",  # "but" and nothing else a rule looks at
        "it works, you mayn't worry, great",  # a word holding "n't" (not in VADER's list)
    ],
)
def test_sentiment_shortcuts_score_as_the_reference(text: str) -> None:
    """A message without a word any rule looks at is the sum of its words' values (ALL-CAPS
    emphasis aside): each shortcut scores exactly as the reference, seen cold and warm."""
    from cogs.engagement import _sentiment

    want = REFERENCE.polarity_scores(text)["compound"]
    _sentiment.forget_tokens()
    assert sentiment(text) == want
    assert sentiment(text) == want


@pytest.mark.parametrize("phrase", sorted(p for p in [*SPECIAL_CASES, *BOOSTER_DICT] if " " in p))
def test_every_idiom_scores_as_the_reference_wherever_it_stands(phrase: str) -> None:
    """Each of VADER's multi-word special cases and boosters, before, after and among sentiment
    words and the common words of other idioms: an idiom is only looked for in a message
    holding one of its rarer words, so each must be found by them."""
    from cogs.engagement import _sentiment

    for text in (
        f"{phrase}",
        f"the bot is {phrase}",
        f"{phrase} great",
        f"good {phrase} of the day",
        f"so {phrase} nice to the end",
        f"this is just {phrase}, right? bad",
    ):
        want = REFERENCE.polarity_scores(text)["compound"]
        _sentiment.forget_tokens()
        assert sentiment(text) == want, text
        assert sentiment(text) == want, text


_RULE_WORDS = ["not", "mayn't", "very", "kinda", "no", "least", "kind", "so", "this", "never"]


@pytest.mark.parametrize("rule", _RULE_WORDS)
@pytest.mark.parametrize("between", [0, 1, 2, 3, 4])
def test_a_rule_word_counts_as_far_as_the_reference_looks(rule: str, between: int) -> None:
    """A word the rules look at, 0 to 4 words before a sentiment word (or, for "no" and "kind",
    being one): rules only run where they can change a score, so each reach is checked at its
    edge, with and without "never" or "but" before it and in capitals."""
    from cogs.engagement import _sentiment

    fillers = " ".join(["it", "was", "the", "of", "to"][:between])
    for before in ("", "never ", "it but "):
        for word in ("good", "GOOD", "good of the day", "hate"):
            text = f"{before}{rule} {fillers} {word} today"
            want = REFERENCE.polarity_scores(text)["compound"]
            _sentiment.forget_tokens()
            assert sentiment(text) == want, text
            assert sentiment(text) == want, text
