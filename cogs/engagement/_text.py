"""What is computed from a message's text at ingest; the text itself is then dropped.

``is_question`` is measured on a labelled corpus of chat messages
(``tests/cogs/engagement/corpus/questions.tsv``; ``python -m bench.engagement_text`` prints its
precision and recall).
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    """The words of a space-separated list."""
    return frozenset(text.split())


_WH = frozenset(["how", "what", "where", "when", "why", "which", "who", "whose", "whom"])
_AUX = frozenset(
    [
        "do",
        "does",
        "did",
        "is",
        "are",
        "was",
        "were",
        "am",
        "can",
        "could",
        "would",
        "will",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "can't",
        "couldn't",
        "won't",
        "wouldn't",
        "shouldn't",
        "hasn't",
        "haven't",
    ]
)
_PRONOUNS = _words("i you we they he she it there there's it's i'm you're we're")
_SUBJECTS = _PRONOUNS | _words(
    "code this that these those anyone anybody someone somebody everyone everybody u y'all "
    "the a an my your our their his her its any some"
)
_HOW_MUCH = frozenset(["long", "many", "much", "often", "far", "come", "soon", "old", "big"])
_ASKING_NOUNS = frozenset(
    [
        "eta",
        "status",
        "thoughts",
        "ideas",
        "recommendations",
        "tips",
        "suggestions",
        "advice",
        "update",
        "updates",
    ]
)
_FILLERS = frozenset(
    [
        "so",
        "ok",
        "okay",
        "and",
        "also",
        "btw",
        "but",
        "hey",
        "hi",
        "hello",
        "all",
        "pls",
        "please",
        "quick",
        "question",
        "q",
        "well",
        "um",
        "oh",
        "folks",
        "guys",
        "team",
        "everyone",
    ]
)
_NOT_ASKING = tuple(
    f"{words} "
    for words in (
        "does the trick",
        "have a",
        "have an",
        "had a",
        "have fun",
        "which is why",
        "which means",
        "what a",
        "what an",
    )
)
_RHETORICAL = re.compile(
    r"^(?:who (?:doesn't|does not|knew|would have|would've|cares)|what could possibly|"
    r"how (?:cool|awesome|great|nice|amazing|cute|sweet) is|isn't (?:that|it|this) "
    r"(?:great|nice|cool|awesome)|why not|can you believe|right|guess (?:who|what))\b"
)
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_LINK = re.compile(r"<[^>]*>|https?://\S+")
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*")
"""Up to ``.``, ``!`` or ``?`` followed by a space or the end (not the dots of ``2.4.1``)."""
_CLAUSE = re.compile(r"[,;:()]")
_WORD = re.compile(r"[a-z0-9']+")


def is_question(text: str) -> bool:
    """Whether a message asks something someone could answer.

    A sentence ending in ``?`` asks, unless it is rhetorical ("who doesn't love a good
    refactor?"); without ``?``, a clause asks when it opens like a question: an auxiliary then
    its subject ("does the free plan include webhooks"), a question word then an auxiliary
    ("how do I ..."), "any"/"anyone" ("any update on the release", "anyone around"), a
    request ("need help with", "wondering if", "not sure how to", "thoughts on"). Code, links
    and mentions are set aside (``?`` in a URL is not a question).
    """
    if "`" in text:
        # A word of its own: "is `--force` safe" asks about it, "`cmd` how do I ..." asks how.
        text = _CODE.sub(" code ", text)
    if "<" in text or "://" in text:
        text = _LINK.sub(" , ", text)
    for sentence in _SENTENCE.findall(text.lower()):
        stripped = sentence.strip()
        if stripped.endswith("?"):
            if not _RHETORICAL.match(" ".join(_WORD.findall(stripped))):
                return True
            continue
        if stripped.endswith(("!", ".")):
            continue  # "how do you do that!" exclaims, "how do you know." tells
        for clause in _CLAUSE.split(stripped):
            if _asks(_WORD.findall(clause)):
                return True
    return False


def _asks(words: list[str]) -> bool:
    """Whether a clause without ``?`` opens like a question (``words``: lowercase)."""
    while words and words[0] in _FILLERS:
        words = words[1:]
    if len(words) > 1 and words[0] == "code" and words[1].removesuffix("'s") in _WH:
        words = words[1:]  # "`cmd` how do I run it": the question follows the code
    if not words:
        return False
    joined = " ".join(words)
    if f"{joined} ".startswith(_NOT_ASKING):
        return False
    first, second = words[0], words[1] if len(words) > 1 else ""
    if "wondering" in words or "need help" in joined or first == "help":
        return True
    if "not sure" in joined:
        after = joined.split("not sure", 1)[1].split()
        return bool(after) and after[0] in ("how", "where", "what", "whether", "if", "which")
    if first in _ASKING_NOUNS:
        return len(words) == 1 or second in ("on", "for", "of", "about")
    if first in ("any", "anyone", "anybody"):
        return bool(second) and second not in ("time", "can", "who", "will", "is", "more")
    if first in ("someone", "somebody"):
        return second in ("knows", "know", "here", "around", "help")
    if first in _AUX:
        if len(words) == 2 and first in ("do", "did") and second == "it":
            return False
        return second in _SUBJECTS or second in _PRONOUNS
    base = first.removesuffix("'s")
    if base not in _WH:
        return False
    if first != base:  # what's, where's, how's
        return True
    if (base == "how" and second in _HOW_MUCH) or (base == "what" and second == "about"):
        return True
    if second in _AUX or second == "to" or second.endswith("'s"):
        return True
    if second in _PRONOUNS or second.endswith("ed"):
        return False  # "how I fixed it", "what worked for me": telling, not asking
    if base in ("who", "what") and second.endswith("s") and second not in ("his", "this"):
        return True  # "who maintains ...", "what happens if ..."
    if base in ("what", "which"):
        # "what time is ...", "which version of node do I need"
        return any(w in _AUX for w in words[2:5])
    return base == "who" and second == "else"


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
