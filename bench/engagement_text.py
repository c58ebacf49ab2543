"""Engagement's text scores: the question detector's precision and recall on labelled chat
messages, and the sentiment score against the reference ``vaderSentiment``: agreement on every
message and time per message, side by side in one run (Steward's cold, its token memory emptied
before each pass, and warm).

``python -m bench.engagement_text [--rounds 60]``. The corpora are the tests' own
(``tests/cogs/engagement/corpus``): questions.tsv (the detector was tuned on it),
questions_heldout.tsv (written after tuning and never tuned on) and vader_sentences.txt
(vaderSentiment's own example sentences). Exits 1 when a goal is missed: recall at least 0.85
at precision at least 0.9 on each corpus, every sentiment within 0.02 of the reference, and at
least 5 times faster, cold and warm.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # `python bench/engagement_text.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Row, percentile_ms

NAME = "engagement_text"
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "cogs" / "engagement" / "corpus"
QUESTION_CORPORA = ("questions.tsv", "questions_heldout.tsv")
SENTIMENT_GOAL = 0.02
SPEED_GOAL = 5.0


def labelled(name: str) -> list[tuple[bool, str]]:
    """(is a question, message) from a corpus file (``Q`` or ``-``, a tab, the message)."""
    found = []
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, text = line.split("\t", 1)
        found.append((label == "Q", text.replace("\\n", "\n")))
    return found


def sentences() -> list[str]:
    """vaderSentiment's example sentences and every chat message of the corpora."""
    own = (CORPUS / "vader_sentences.txt").read_text(encoding="utf-8").splitlines()
    vader = [line for line in own if line and not line.startswith("#")]
    return vader + [text for name in QUESTION_CORPORA for _, text in labelled(name)]


@dataclass(frozen=True)
class Detection:
    """How the question detector did on one corpus."""

    corpus: str
    n: int
    precision: float
    recall: float
    missed: list[str]
    wrong: list[str]


def detection(name: str) -> Detection:
    """Precision and recall of ``is_question`` on a corpus."""
    from cogs.engagement._text import is_question

    rows = labelled(name)
    said = [(label, is_question(text), text) for label, text in rows]
    tp = sum(1 for label, got, _ in said if label and got)
    fp = [text for label, got, text in said if got and not label]
    fn = [text for label, got, text in said if label and not got]
    return Detection(name, len(rows), tp / max(1, tp + len(fp)), tp / max(1, tp + len(fn)), fn, fp)


def disagreement() -> tuple[int, float, str]:
    """Over every sentence: how many, the largest difference from the reference, and where."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    from cogs.engagement._sentiment import sentiment

    reference = SentimentIntensityAnalyzer()
    worst, where = 0.0, ""
    texts = sentences()
    for text in texts:
        gap = abs(reference.polarity_scores(text)["compound"] - sentiment(text))
        if gap > worst:
            worst, where = gap, text
    return len(texts), worst, where


def timings(rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds per message of the reference, of Steward's score with its token memory emptied
    before the pass (cold: every token worked out again) and of a second pass with the memory
    the first left (warm: chat reuses its words), one value per round.

    Each pass is timed in the thread's CPU time: on a shared machine the time this process
    waits for a core is not counted (wall time per message measured anything from 2.6 to 13
    times for the same code under load). Rounds alternate, so all see the same machine.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from cogs.engagement._sentiment import forget_tokens, sentiment

    reference = SentimentIntensityAnalyzer()
    texts = sentences()
    clock = time.thread_time
    reference.polarity_scores(texts[0])  # lexicons loaded before timing
    sentiment(texts[0])
    theirs_score = reference.polarity_scores
    found: tuple[list[float], list[float], list[float]] = ([], [], [])
    for _ in range(rounds):
        started = clock()
        for text in texts:
            theirs_score(text)
        theirs = clock()
        forget_tokens()  # not timed: neither side pays for the emptying
        cold = clock()
        for text in texts:
            sentiment(text)
        warm = clock()
        for text in texts:
            sentiment(text)
        ended = clock()
        found[0].append((theirs - started) / len(texts))
        found[1].append((warm - cold) / len(texts))
        found[2].append((ended - warm) / len(texts))
    return found


def run(n: int = 60) -> list[Row]:
    """The entry ``bench.run`` calls: ``n`` rounds over the sentences."""
    theirs, cold, warm = timings(n)
    count = len(sentences())
    t50, t99 = percentile_ms(theirs, 0.5), percentile_ms(theirs, 0.99)
    rows = [Row(NAME, "vaderSentiment polarity_scores, per message", count, t50, t99, 1.0, 1.0)]
    for label, ours in (("cold: token memory emptied", cold), ("warm: tokens seen", warm)):
        o50, o99 = percentile_ms(ours, 0.5), percentile_ms(ours, 0.99)
        rows.append(
            Row(
                NAME,
                f"Steward sentiment, per message, {label}",
                count,
                o50,
                o99,
                t50 / o50,
                t99 / o99,
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the detector's figures, the sentiment agreement and the timing table."""
    from bench.run import print_table

    parser = argparse.ArgumentParser(prog="python -m bench.engagement_text")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--verbose", action="store_true", help="list the detector's mistakes")
    args = parser.parse_args(argv)
    ok = True
    for name in QUESTION_CORPORA:
        d = detection(name)
        print(
            f"questions, {d.corpus}: {d.n} messages, precision {d.precision:.3f}, "
            f"recall {d.recall:.3f}"
        )
        ok &= d.recall >= 0.85 and d.precision >= 0.9
        if args.verbose:
            for text in d.missed:
                print(f"  missed: {text!r}")
            for text in d.wrong:
                print(f"  not a question: {text!r}")
    n, worst, where = disagreement()
    print(
        f"sentiment: {n} messages, largest difference from vaderSentiment {worst:.4f}"
        + (f" ({where!r})" if worst else "")
    )
    ok &= worst <= SENTIMENT_GOAL
    rows = run(args.rounds)
    print_table(rows)
    ok &= min(row.ratio_p50 for row in rows[1:]) >= SPEED_GOAL
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
