"""What a group reads when introduced, and what a paused ghost is told."""

from __future__ import annotations

import random

from cogs.introductions._texts import (
    DEFAULT_STARTERS,
    Introduced,
    ghost_notice,
    introduction,
    pick_starter,
)

LABELS = {1: "chess", 2: "hiking", 3: "jazz"}


def test_a_pair_reads_each_others_interests_the_shared_ones_and_a_starter() -> None:
    group = [Introduced("<@1>", frozenset({1, 2})), Introduced("<@2>", frozenset({2, 3}))]
    assert introduction(group, LABELS, "Best trail nearby?") == (
        "👋 Meet each other, <@1> and <@2>! You're this round's introduction.\n"
        "• <@1> is into chess and hiking.\n"
        "• <@2> is into hiking and jazz.\n"
        "You both like hiking.\n"
        "To get you started: Best trail nearby?\n"
        "Find a time that suits you; I'll check in midway to see how it's going."
    )


def test_a_trio_without_shared_interests_gets_no_shared_line() -> None:
    group = [Introduced("<@1>", frozenset({1})), Introduced("<@2>"), Introduced("<@3>")]
    text = introduction(group, LABELS, "Hi?")
    assert text.startswith("👋 Meet each other, <@1>, <@2> and <@3>!")
    assert "like" not in text
    assert "<@2> is into" not in text


def test_a_managers_starter_never_pings() -> None:
    group = [Introduced("<@1>"), Introduced("<@2>")]
    text = introduction(group, LABELS, "@everyone say hi to <@3>")
    assert "@everyone" not in text
    assert "<@3>" not in text


def test_a_starter_for_a_shared_interest_comes_first() -> None:
    rng = random.Random(1)
    themed = {2: ["Best trail nearby?"]}
    assert pick_starter(frozenset({2}), ["General?"], themed, rng) == "Best trail nearby?"
    assert pick_starter(frozenset({1}), ["General?"], themed, rng) == "General?"
    assert pick_starter(frozenset(), [], {}, rng) in DEFAULT_STARTERS


def test_a_ghost_is_told_how_to_come_back() -> None:
    assert "`/introductions join`" in ghost_notice()


def test_starters_per_interest_are_read_by_name_in_any_case() -> None:
    from cogs.introductions._starters import Vocabulary, starter_line, starters

    vocabulary = Vocabulary(["Chess", "Board  games", "@everyone"])
    stored = "\n".join(
        [
            starter_line("What's new?", None),
            starter_line("Which   opening?", "chess"),
            starter_line("Favourite game?", "board games"),
            starter_line("Unknown?", "knitting"),
        ]
    )
    general, themed = starters(stored, vocabulary)
    assert general == ["What's new?"]
    assert themed == {
        vocabulary.id_of("CHESS"): ["Which opening?"],
        vocabulary.id_of("Board games"): ["Favourite game?"],
    }
    assert "@everyone" not in vocabulary.labels().values()  # a name never pings
