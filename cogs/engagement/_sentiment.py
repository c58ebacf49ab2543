"""VADER's compound score (``vaderSentiment`` 3.3.2), the same rules at a fraction of the cost.

The reference re-lowercases the whole message for every rule it checks on every sentiment word
(quadratic in the message's length), builds its negation list on every call and converts emoji
character by character. This keeps every rule (negation windows, boosters and dampeners with
their distance weights, ALL-CAPS emphasis, "no", "least", "kind of", the special idioms, the
"but" shift with its quirks, "!" and "?" emphasis) and its lexicons (read from the installed
package), but lowercases once, works out each token once (its word, its valence, whether a rule
looks at it) and keeps it, stops early when no token of the message is a sentiment word (most
chat messages), sums the valences when no token is one a rule looks at, runs the rules only
for a sentiment word a rule word is near enough to change (one pass over the tokens), looks for
idioms only in a message holding an idiom's rarer word, reads the normalised score of one
sentiment word or two off a table made from the lexicon, and only walks characters for emoji
when the text is not plain ASCII. Plain loops over the tokens: on CPython 3.11 they are quicker
than ``map``/``filter`` calling a method a token. The tests compare it with the reference on
every message of a corpus and at the edge of every rule's reach.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from functools import cache
from itertools import pairwise

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

_sqrt = math.sqrt
_round = round
_BOOSTERS = frozenset(BOOSTER_DICT)
_NEGATE = frozenset(NEGATE)
_C_INCR: float = C_INCR
_IDIOM_PAIRS = frozenset(
    pair
    for phrase in [*SPECIAL_CASES, *BOOSTER_DICT]
    if " " in phrase
    for pair in zip(phrase.split(), phrase.split()[1:], strict=False)
)
"""Every two words in a row of a multi-word special case or booster (the n-grams ``_idioms``
compares): a message without one matches none of them."""
_COMMON_IDIOM_WORDS = frozenset({"the", "of", "to", "for", "just", "right", "bad", "stop", "heart"})
"""Words of the idioms found in much chat that matches none ("the", "of", "bad", …)."""
_IDIOM_ANCHORS = frozenset(
    word for pair in _IDIOM_PAIRS for word in (set(pair) - _COMMON_IDIOM_WORDS or pair)
)
"""Of each two words in a row of an idiom, the rarer ("shit" of "the shit", "kind" of "kind of"),
or both when both are common: every match of an idiom holds one, so a message, or the words
around a sentiment word, holding none matches no idiom."""
_PUNCTUATION = string.punctuation
_CONTEXT = frozenset(
    {
        *_NEGATE,
        *(word for word in BOOSTER_DICT if " " not in word),
        # "doubt" only counts after "without", and "or"/"nor" after "no": those are here.
        *("no", "least", "kind", "never", "without"),
    }
)
"""Every word a rule looks at in the three words before a sentiment word or in its place (with
any word holding "n't"; "so" is a booster): a sentiment word with none there, no "this" in the
two words before it and no idiom's anchor around it scores as the lexicon says, caps aside."""
_NEAR_WORDS = frozenset({"this"})
"""A word that only counts just before a sentiment word ("it was this good", "never this good";
in "never this very good" it is two before, but "never" is in ``_CONTEXT``)."""


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


_LEXICONS: tuple[dict[str, float], dict[int, str]] | None = None


def _load() -> tuple[dict[str, float], dict[int, str]]:
    global _LEXICONS, _LEXICON  # read once, by the first message
    _LEXICONS = _lexicons()
    _LEXICON = _LEXICONS[0]
    valences = {0.0, *_LEXICON.values()}
    for total in {*valences, *(a + b for a in valences for b in valences)}:
        _NORMALISED[total] = _normalised(total)
    return _LEXICONS


_WORDS_KEPT = 100_000
_WORDS: dict[str, str] = {}
"""Each token seen (as split from the text) whose word for VADER is not the token itself: it is
stripped of punctuation unless that leaves two characters or fewer. Chat reuses few tokens: a
token is worked out once (``_learn``) and kept, with what the rules need to know of it, at most
``_WORDS_KEPT`` of them (or one message's own tokens if it holds more)."""
_SEEN: set[str] = set()
"""The tokens ``_WORDS`` holds, as a set: one ``issuperset`` tells a message of tokens all seen."""
_VALUES: dict[str, float] = {}
"""The tokens whose word is in the lexicon, and its valence: a message holding none scores 0,
and one holding no token of ``_SPECIAL`` is the sum of these (caps aside)."""
_FELT: set[str] = set()
"""The keys of ``_VALUES`` as a set (``set.isdisjoint`` is quicker than a dict view's)."""
_RULED: set[str] = set()
"""The tokens whose word is in ``_CONTEXT`` or holds "n't"."""
_NEAR: set[str] = set()
"""The tokens whose word is in ``_NEAR_WORDS``."""
_IDIOMATIC: set[str] = set()
"""The tokens whose word is an idiom's anchor (``_IDIOM_ANCHORS``)."""
_SPECIAL: set[str] = set()
"""The tokens of ``_RULED`` and ``_NEAR`` and those whose word is "but": a message holding none
(and no idiom) scores the sum of its values."""
_seen, _felt, _ruled, _special = _SEEN.add, _FELT.add, _RULED.add, _SPECIAL.add
_all_seen, _unfelt, _unspecial = _SEEN.issuperset, _FELT.isdisjoint, _SPECIAL.isdisjoint
_unidiomatic, _unnear = _IDIOMATIC.isdisjoint, _NEAR.isdisjoint
_LEXICON: dict[str, float] = {}
"""VADER's lexicon once loaded (``_load``)."""


def forget_tokens() -> None:
    """Empty the token memory (the benchmark's cold pass)."""
    for memory in (_WORDS, _SEEN, _VALUES, _FELT, _RULED, _NEAR, _IDIOMATIC, _SPECIAL):
        memory.clear()


def _learn(tokens: list[str]) -> None:
    """Work out the tokens of a message not seen before: each one's word (kept only when it
    is not the token itself) and what the rules ask of it, in one pass a message."""
    if len(_SEEN) + len(tokens) > _WORDS_KEPT:
        forget_tokens()
    punctuation, kinds, seen = _PUNCTUATION, _KINDS or _load_kinds(), _SEEN
    # A plain loop: quicker than filterfalse(seen.__contains__, …), which calls a method a token.
    for token in tokens:
        if token in seen:
            continue
        _seen(token)
        stripped = token.strip(punctuation)
        if stripped is token or len(stripped) <= 2:
            word = token
        else:
            word = _WORDS[token] = stripped
        if word in kinds:  # most are not: "in" is quicker than get
            value, notes = kinds[word]
            if value is not None:
                _VALUES[token] = value
                _felt(token)
            for note in notes:
                note(token)
        elif "n't" in word:
            _ruled(token)
            _special(token)


_KINDS: dict[str, tuple[float | None, tuple[Callable[[str], None], ...]]] = {}
"""Each word a rule or the lexicon knows: its valence (or None), and the sets of ``_RULED``,
``_NEAR``, ``_IDIOMATIC`` and ``_SPECIAL`` a token of it joins."""


def _load_kinds() -> dict[str, tuple[float | None, tuple[Callable[[str], None], ...]]]:
    lexicon = _LEXICONS[0] if _LEXICONS else _load()[0]
    for word in {*lexicon, *_CONTEXT, *_NEAR_WORDS, "but", *_IDIOM_ANCHORS}:
        ruled = word in _CONTEXT or "n't" in word
        near = word in _NEAR_WORDS
        notes = (
            *((_ruled,) if ruled else ()),
            *((_NEAR.add,) if near else ()),
            *((_IDIOMATIC.add,) if word in _IDIOM_ANCHORS else ()),
            *((_special,) if ruled or near or word == "but" else ()),
        )
        _KINDS[word] = (lexicon.get(word), notes)
    return _KINDS


def sentiment(text: str) -> float:
    """VADER's compound score in [-1, 1], rounded to 4 places as the reference rounds it."""
    if not text.isascii():
        text = text.translate((_LEXICONS or _load())[1])
    low = text.lower()
    # Punctuation has no case: stripping the lowercased tokens strips the same characters.
    tokens = low.split()
    if not _all_seen(tokens):
        _learn(tokens)
    if _unfelt(tokens):
        return 0.0  # no sentiment word (most chat)
    values = _VALUES  # plain loops over the tokens: quicker than map(values.get, …)
    if _unspecial(tokens) and (_unidiomatic(tokens) or not _idioms_in(tokens, None)):
        # No word any rule looks at: each score is the lexicon's, ALL-CAPS emphasis aside.
        total = 0.0
        for token in tokens:
            if token in values:
                total += values[token]
        if low != text:
            shouted = [cased for cased in text.split() if cased.isupper()]
            if 0 < len(shouted) < len(tokens):  # the message is not all capitals
                for cased in shouted:
                    value = values.get(cased.lower())
                    if value is not None:
                        total += _C_INCR if value > 0 else -_C_INCR
        return _compound(total, text)
    if low == text:  # nothing in capitals
        words, cap_diff = tokens, False
    else:
        # The rules only ask whether a word is in capitals: stripping punctuation, which has no
        # case, never changes that, so the tokens as split stand for the words.
        words = text.split()
        uppers = sum(map(str.isupper, words))
        cap_diff = 0 < len(tokens) - uppers < len(tokens)
    idioms = not _unidiomatic(tokens) and _idioms_in(tokens, None)
    special, ruled, near = _SPECIAL, _RULED, _NEAR
    lower: list[str] | None = None  # the words, made when a rule needs them
    # Only the scores of lexicon words, with their positions: the reference's list also holds
    # a 0 for every other word, which changes neither the sum nor the "but" rule. The rules
    # run for a sentiment word with a token of ``_RULED`` in its place or the 3 words before,
    # one of ``_NEAR`` just before, or in a message holding two words in a row of an idiom;
    # the others score as the lexicon says, caps aside.
    positions: list[int] = []
    scores: list[float] = []
    last_ruled = last_near = but = -9
    for i, token in enumerate(tokens):
        if token in special:
            if token in ruled:
                last_ruled = i
            elif token in near:
                last_near = i
            elif but < 0:  # the first "but"
                but = i
        if token not in values:
            continue
        if i - last_ruled > 3 and i - last_near > 1 and not idioms:
            positions.append(i)
            scores.append(_shouted(values[token], words[i]) if cap_diff else values[token])
            continue
        if lower is None:
            stripped = _WORDS
            lower = [stripped.get(token, token) for token in tokens]
            if not cap_diff:
                words = lower
        w = lower[i]
        if w not in _BOOSTERS and not (
            w == "kind" and i < len(tokens) - 1 and lower[i + 1] == "of"
        ):
            positions.append(i)
            scores.append(_valence(words, lower, i, values[token], _LEXICON, cap_diff, idioms))
    if but >= 0:
        _but(but, positions, scores)
    return _compound(sum(scores), text)


def _idioms_in(tokens: list[str], lower: list[str] | None) -> bool:
    """Whether two words of a message in a row are two words in a row of an idiom (the message
    holding one of their anchors): only then can ``_idioms`` match."""
    if lower is None:
        lower = [_WORDS.get(token, token) for token in tokens]
    return not _IDIOM_PAIRS.isdisjoint(pairwise(lower))


def _compound(total: float, text: str) -> float:
    """The sum of the scores with "!" and "?" emphasis, normalised as the reference does."""
    if "!" in text or "?" in text:
        bangs = min(text.count("!"), 4) * 0.292
        marks = text.count("?")
        emphasis = bangs + ((marks * 0.18 if marks <= 3 else 0.96) if marks > 1 else 0)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
    if total in _NORMALISED:  # most messages: one or two sentiment words
        return _NORMALISED[total]
    return _normalised(total)


_NORMALISED: dict[float, float] = {}
"""``_normalised`` of 0, of every valence of the lexicon and of every sum of two (73 values and
317 sums for VADER 3.3.2), filled when the lexicon is read."""


def _normalised(total: float) -> float:
    """The reference's normalisation of a total and its rounding to 4 places."""
    if total == 0:
        return 0.0
    score = total / _sqrt(total * total + 15)
    if score < -1.0 or score > 1.0:
        return -1.0 if score < 0 else 1.0
    # round(score, 4), quicker: the nearest whole number of ten-thousandths, divided (exactly
    # rounded) by 10,000 is the double round() returns, unless the product is too near a half
    # (or rounds to 0, where round keeps the sign of -0.0): then round() decides.
    scaled = score * 10_000.0
    whole = _round(scaled)
    if whole and -0.4999 < scaled - whole < 0.4999:
        return whole / 10_000.0
    return round(score, 4)


def _shouted(valence: float, word: str) -> float:
    """ALL-CAPS emphasis in a message that is not all capitals."""
    if word.isupper():
        return valence + _C_INCR if valence > 0 else valence - _C_INCR
    return valence


def _valence(
    words: list[str],
    lower: list[str],
    i: int,
    base: float,
    lexicon: dict[str, float],
    cap_diff: bool,
    idioms: bool,
) -> float:
    """The valence of the lexicon word at ``i`` after the rules about the words around it
    (the reference's ``sentiment_valence``, its loop over the 3 words before unrolled)."""
    w1 = lower[i - 1] if i > 0 else None
    w2 = lower[i - 2] if i > 1 else None
    w3 = lower[i - 3] if i > 2 else None
    valence = base
    if lower[i] == "no" and i != len(lower) - 1 and lower[i + 1] in lexicon:
        valence = 0.0
    if w1 == "no" or w2 == "no" or (w3 == "no" and w1 in ("or", "nor")):
        valence = base * N_SCALAR
    if cap_diff and words[i].isupper():
        valence = valence + C_INCR if valence > 0 else valence - C_INCR
    if w1 is None:
        return valence
    if w1 not in lexicon:
        if w1 in BOOSTER_DICT:
            valence += _boost(w1, words[i - 1], valence, cap_diff, 1.0)
        if w1 in _NEGATE or "n't" in w1:
            valence *= N_SCALAR
    if w2 is not None and w2 not in lexicon:
        if w2 in BOOSTER_DICT:
            valence += _boost(w2, words[i - 2], valence, cap_diff, 0.95)
        if w2 == "never" and w1 in ("so", "this"):
            valence *= 1.25
        elif not (w2 == "without" and w1 == "doubt") and (w2 in _NEGATE or "n't" in w2):
            valence *= N_SCALAR
    if w3 is not None and w3 not in lexicon:
        assert w2 is not None
        if w3 in BOOSTER_DICT:
            valence += _boost(w3, words[i - 3], valence, cap_diff, 0.9)
        if (w3 == "never" and w2 in ("so", "this")) or w1 in ("so", "this"):
            valence *= 1.25
        elif not (w3 == "without" and "doubt" in (w2, w1)) and (w3 in _NEGATE or "n't" in w3):
            valence *= N_SCALAR
        if idioms and not _IDIOM_ANCHORS.isdisjoint(lower[i - 3 : i + 3]):
            # Only a window holding an idiom's anchor can match one.
            valence = _idioms(valence, lower, i)
    if w1 == "least" and (w2 is None or w2 not in ("at", "very")):
        valence *= N_SCALAR
    return valence


def _boost(word: str, cased: str, valence: float, cap_diff: bool, distance: float) -> float:
    """What a booster ("very", "kind of") adds, ``distance`` the weight of its place."""
    scalar: float = BOOSTER_DICT[word]
    if valence < 0:
        scalar *= -1
    if cap_diff and cased.isupper():
        scalar = scalar + C_INCR if valence > 0 else scalar - C_INCR
    return scalar * distance if distance != 1.0 else scalar


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


def _but(at: int, positions: list[int], values: list[float]) -> None:
    """The reference's "but" rule, quirk included: each score is found again by value
    (``list.index``), so equal scores are weighed at the first one's position."""
    for value in list(values):
        k = values.index(value)
        if positions[k] < at:
            values[k] = value * 0.5
        elif positions[k] > at:
            values[k] = value * 1.5
