"""VADER's compound score (``vaderSentiment`` 3.3.2), the same rules at a fraction of the cost.

The reference re-lowercases the whole message for every rule it checks on every sentiment word
(quadratic in the message's length), builds its negation list on every call and converts emoji
character by character. This keeps every rule (negation windows, boosters and dampeners with
their distance weights, ALL-CAPS emphasis, "no", "least", "kind of", the special idioms, the
"but" shift with its quirks, "!" and "?" emphasis) and its lexicons (read from the installed
package), but lowercases once, stops early when no word of the message is in the lexicon (most
chat messages), and only walks characters for emoji when the text is not plain ASCII. The tests
compare it with the reference on every message of a corpus.
"""

from __future__ import annotations

import math
import string
from functools import cache

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

_NEGATE = frozenset(NEGATE)
_IDIOM_WORDS = frozenset(
    word for phrase in [*SPECIAL_CASES, *BOOSTER_DICT] if " " in phrase for word in phrase.split()
)
"""Every word of a multi-word special case or booster: the n-grams ``_idioms`` compares."""
_PUNCTUATION = string.punctuation


@cache
def _lexicons() -> tuple[dict[str, float], dict[int, str]]:
    """VADER's lexicon, and its emoji as a translation table to their descriptions.

    The reference walks the text a character at a time, putting a space before a description
    unless one is there already; a space put there every time splits the text into the same
    words, and ``str.translate`` does it in one pass.
    """
    analyzer = SentimentIntensityAnalyzer()
    emojis = {ord(k): " " + v for k, v in analyzer.emojis.items() if len(k) == 1}
    return analyzer.lexicon, emojis


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


def _strip(token: str) -> str:
    stripped = token.strip(_PUNCTUATION)
    return token if len(stripped) <= 2 else stripped


def sentiment(text: str) -> float:
    """VADER's compound score in [-1, 1], rounded to 4 places as the reference rounds it."""
    lexicon, emojis = _lexicons()
    if not text.isascii():
        text = text.translate(emojis)
    p = _PUNCTUATION
    low = text.lower()
    # Punctuation has no case: stripping the lowercased tokens strips the same characters.
    lower = [t if len(s := t.strip(p)) <= 2 else s for t in low.split()]
    if lexicon.keys().isdisjoint(lower):
        return 0.0
    found = lexicon.keys() & set(lower)
    n = len(lower)
    if low == text:  # nothing in capitals
        words, cap_diff = lower, False
    else:
        words = [t if len(s := t.strip(p)) <= 2 else s for t in text.split()]
        uppers = sum(1 for w in words if w.isupper())
        cap_diff = 0 < n - uppers < n
    # Only the scores of lexicon words, with their positions: the reference's list also holds
    # a 0 for every other word, which changes neither the sum nor the "but" rule.
    scored = [
        (i, _valence(words, lower, i, lexicon[w], lexicon, cap_diff))
        for i, w in enumerate(lower)
        if w in found
        and w not in BOOSTER_DICT
        and not (w == "kind" and i < n - 1 and lower[i + 1] == "of")
    ]
    if "but" in lower:
        scored = _but(lower.index("but"), scored)
    sentiments = [v for _, v in scored]
    total = float(sum(sentiments))
    if total == 0:
        return 0.0
    bangs = min(text.count("!"), 4) * 0.292
    marks = text.count("?")
    emphasis = bangs + ((marks * 0.18 if marks <= 3 else 0.96) if marks > 1 else 0)
    total = total + emphasis if total > 0 else total - emphasis
    return round(max(-1.0, min(1.0, total / math.sqrt(total * total + 15))), 4)


def _valence(
    words: list[str],
    lower: list[str],
    i: int,
    base: float,
    lexicon: dict[str, float],
    cap_diff: bool,
) -> float:
    """The valence of the lexicon word at ``i`` after the rules about the words around it."""
    n = len(lower)
    valence = base
    if lower[i] == "no" and i != n - 1 and lower[i + 1] in lexicon:
        valence = 0.0
    if (
        (i > 0 and lower[i - 1] == "no")
        or (i > 1 and lower[i - 2] == "no")
        or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
    ):
        valence = base * N_SCALAR
    if cap_diff and words[i].isupper():
        valence = valence + C_INCR if valence > 0 else valence - C_INCR
    for start in range(3):
        if i <= start:
            break
        before = lower[i - start - 1]
        if before in lexicon:
            continue
        scalar = 0.0
        if before in BOOSTER_DICT:
            scalar = BOOSTER_DICT[before]
            if valence < 0:
                scalar *= -1
            if cap_diff and words[i - start - 1].isupper():
                scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
            if start == 1:
                scalar *= 0.95
            elif start == 2:
                scalar *= 0.9
        valence += scalar
        valence = _negation(valence, lower, start, i)
        if start == 2 and not _IDIOM_WORDS.isdisjoint(lower[max(0, i - 3) : i + 3]):
            # Only a window holding a word of an idiom can match one.
            valence = _idioms(valence, lower, i)
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] not in ("at", "very"):
            valence *= N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence *= N_SCALAR
    return valence


def _negation(valence: float, lower: list[str], start: int, i: int) -> float:
    if start == 0:
        return valence * N_SCALAR if _negated(lower[i - 1]) else valence
    if start == 1:
        if lower[i - 2] == "never" and lower[i - 1] in ("so", "this"):
            return valence * 1.25
        if lower[i - 2] == "without" and lower[i - 1] == "doubt":
            return valence
        return valence * N_SCALAR if _negated(lower[i - 2]) else valence
    if (lower[i - 3] == "never" and lower[i - 2] in ("so", "this")) or lower[i - 1] in (
        "so",
        "this",
    ):
        return valence * 1.25
    if lower[i - 3] == "without" and "doubt" in (lower[i - 2], lower[i - 1]):
        return valence
    return valence * N_SCALAR if _negated(lower[i - 3]) else valence


def _idioms(valence: float, lower: list[str], i: int) -> float:
    one_zero = f"{lower[i - 1]} {lower[i]}"
    two_one = f"{lower[i - 2]} {lower[i - 1]}"
    three_two_one = f"{lower[i - 3]} {two_one}"
    for seq in (one_zero, f"{lower[i - 2]} {one_zero}", two_one, three_two_one):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    else:
        three_two = f"{lower[i - 3]} {lower[i - 2]}"
        if three_two in SPECIAL_CASES:
            valence = SPECIAL_CASES[three_two]
    n = len(lower)
    if n - 1 > i:
        zero_one = f"{lower[i]} {lower[i + 1]}"
        if zero_one in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one]
    if n - 1 > i + 1:
        zero_one_two = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zero_one_two in SPECIAL_CASES:
            valence = SPECIAL_CASES[zero_one_two]
    for gram in (three_two_one, f"{lower[i - 3]} {lower[i - 2]}", two_one):
        if gram in BOOSTER_DICT:
            valence += BOOSTER_DICT[gram]
    return valence


def _but(at: int, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The reference's "but" rule, quirk included: each score is found again by value
    (``list.index``), so equal scores are weighed at the first one's position."""
    positions = [i for i, _ in scored]
    values = [v for _, v in scored]
    for value in list(values):
        k = values.index(value)
        if positions[k] < at:
            values[k] = value * 0.5
        elif positions[k] > at:
            values[k] = value * 1.5
    return list(zip(positions, values, strict=True))
