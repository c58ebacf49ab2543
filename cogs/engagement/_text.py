"""What is computed from a message's text at ingest; the text itself is then dropped."""

from __future__ import annotations

import math
import re
from functools import cache

_QUESTION_WORDS = frozenset(
    [
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "which",
        "whose",
        "whom",
        "is",
        "are",
        "am",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "will",
        "should",
        "shall",
        "may",
        "might",
        "has",
        "have",
        "had",
        "any",
        "anyone",
        "anybody",
        "someone",
    ]
)
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_LINK = re.compile(r"<[^>]*>|https?://\S+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[a-z']+")


_OPENERS = _QUESTION_WORDS | {"i", "you", "we", "it", "this", "there", "someone"}


def is_question(text: str) -> bool:
    """Whether a message asks something: a sentence ending in ``?``, or opening like a question.

    Code, links and mentions are ignored (``?`` in a URL is not a question); a sentence that
    starts with a question word counts only when it also has a ``?`` somewhere or is short and
    direct ("how do I reset my password").
    """
    if "`" in text:
        text = _CODE.sub(" ", text)
    if "<" in text or "://" in text:
        text = _LINK.sub(" ", text)
    for sentence in _SENTENCE.findall(text):
        stripped = sentence.strip()
        if not stripped:
            continue
        if stripped.endswith("?"):
            return True
        if stripped.endswith(("!", ".")):
            continue
        words = _WORD.findall(stripped.lower())
        if len(words) >= 3 and words[0] in _QUESTION_WORDS and words[1] in _OPENERS:
            return True
    return False


_AGREEING = frozenset(
    [
        "+1",
        "1",
        "plus",
        "one",
        "same",
        "here",
        "too",
        "me",
        "also",
        "following",
        "follow",
        "followed",
        "watching",
        "subscribing",
        "subscribed",
        "interested",
        "ditto",
        "likewise",
        "bump",
        "this",
        "problem",
        "issue",
        "question",
        "error",
        "thing",
        "i",
        "we",
        "have",
        "having",
        "got",
        "getting",
        "seeing",
        "see",
        "the",
        "a",
        "an",
        "exact",
        "exactly",
        "for",
        "am",
        "is",
        "it",
        "same's",
        "here's",
        "also",
        "+100",
        "+1000",
        "yep",
        "agreed",
        "agree",
    ]
)
_SHORTCODE = re.compile(r"<a?:\w+:\d+>|:[\w+-]+:")
_TOKEN = re.compile(r"\+\d+|[a-z0-9']+")


def is_agreement(text: str) -> bool:
    """Whether a message only agrees or follows ("+1", "same here", "following", an emoji).

    Such a reply does not answer a question, however early it comes.
    """
    text = _SHORTCODE.sub(" ", text.lower())
    words = _TOKEN.findall(text)
    if not words:
        return not any(ch.isdigit() for ch in text)  # only emoji and punctuation
    return len(words) <= 8 and all(w in _AGREEING for w in words) and "?" not in text


# -- sentiment ---------------------------------------------------------------------------------

_NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "nowhere",
        "cannot",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "wouldn't",
        "shouldn't",
        "couldn't",
        "hasn't",
        "haven't",
        "hadn't",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "ain't",
        "aint",
    ]
)
_BOOST_UP = frozenset(
    [
        "very",
        "really",
        "extremely",
        "so",
        "totally",
        "absolutely",
        "incredibly",
        "super",
        "most",
        "truly",
        "highly",
    ]
)
_BOOST_DOWN = frozenset(
    ["slightly", "somewhat", "kinda", "sorta", "barely", "hardly", "marginally"]
)
_NEGATION_SCALE = -0.74
_BOOST = 0.293
_ALPHA = 15.0


@cache
def _lexicon() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return dict(SentimentIntensityAnalyzer().lexicon)


def sentiment(text: str) -> float:
    """A score in [-1, 1] from VADER's lexicon, offline, with VADER's negation and boosters.

    VADER's own ``polarity_scores`` costs about 40 µs a message here, more than discord.py's
    whole parse; this keeps its lexicon, negation window, boosters and normalisation and drops
    the rarer rules (idioms, "but" shifts, caps and punctuation emphasis), at a few µs.
    """
    lexicon = _lexicon()
    words = _WORD.findall(text.lower())
    total = 0.0
    negated_at = -4  # the index of the latest negation: it reaches the next 3 words
    for i, word in enumerate(words):
        valence = lexicon.get(word)
        if valence is None:
            if word in _NEGATIONS or word.endswith("n't"):
                negated_at = i
            continue
        if i:
            before = words[i - 1]
            if before in _BOOST_UP:
                valence += _BOOST if valence > 0 else -_BOOST
            elif before in _BOOST_DOWN:
                valence -= _BOOST if valence > 0 else -_BOOST
            if i - negated_at <= 3:
                valence *= _NEGATION_SCALE
        total += valence
        if word in _NEGATIONS or word.endswith("n't"):
            negated_at = i
    if total == 0.0:
        return 0.0
    return max(-1.0, min(1.0, total / math.sqrt(total * total + _ALPHA)))
