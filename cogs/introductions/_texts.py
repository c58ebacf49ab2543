"""What introductions say (pure): the introduction with a starter and interests, and notices."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.templates import neutralize_pings

DEFAULT_STARTERS = (
    "What are you working on or learning at the moment?",
    "What brought you to this community?",
    "What's something you'd happily talk about for an hour?",
    "What's a small thing that made your week better?",
)
"""Used when managers have not written their own."""


@dataclass(frozen=True, slots=True)
class Introduced:
    """One member of a group as the introduction shows them."""

    mention: str
    interests: frozenset[int] = frozenset()


def pick_starter(
    shared: frozenset[int],
    starters: Sequence[str],
    by_interest: Mapping[int, Sequence[str]],
    rng: random.Random,
) -> str:
    """A starter for one of the interests the group shares, else one of the general ones."""
    themed = [s for interest in sorted(shared) for s in by_interest.get(interest, ())]
    return rng.choice(themed or list(starters) or list(DEFAULT_STARTERS))


def introduction(group: Sequence[Introduced], labels: Mapping[int, str], starter: str) -> str:
    """The message that opens a group's conversation (managers' starters never ping)."""
    names = [m.mention for m in group]
    who = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    lines = [f"👋 Meet each other, {who}! You're this round's introduction."]
    for m in group:
        liked = _labels(m.interests, labels)
        if liked:
            lines.append(f"• {m.mention} is into {liked}.")
    shared = frozenset.intersection(*(m.interests for m in group)) if group else frozenset()
    both = "both" if len(group) == 2 else "all"
    if _labels(shared, labels):
        lines.append(f"You {both} like {_labels(shared, labels)}.")
    lines.append(f"To get you started: {neutralize_pings(starter)}")
    lines.append("Find a time that suits you; I'll check in midway to see how it's going.")
    return "\n".join(lines)


def _labels(interests: frozenset[int], labels: Mapping[int, str]) -> str:
    """Interest names in a stable order, joined for a sentence (unknown ids left out)."""
    named = sorted(labels[i] for i in interests if i in labels)
    if len(named) <= 1:
        return "".join(named)
    return ", ".join(named[:-1]) + " and " + named[-1]


def ghost_notice() -> str:
    """Told to a member paused after ignoring three rounds in a row."""
    return (
        "You haven't answered the last three introductions, so I've paused yours for now. "
        "Whenever you'd like to meet someone again, type `/introductions join`."
    )


def check_in_text(final: bool) -> str:
    """The "did you meet?" question, midway or near the end of a round."""
    if final:
        return "The round is nearly over: did you get to meet? Tell me below."
    return "Halfway through the round! Have you met yet? Tell me below."


ANSWERED = {
    "met": "Lovely, noted that you met! 🎉",
    "not_yet": "Noted: not yet. There's still time; I'll ask again near the end.",
    "skip": "Noted: you're skipping this round. You'll be in the next one.",
}
"""What a member is told, privately, when they answer a check-in."""
