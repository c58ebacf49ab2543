"""The talk graph with plain values: replies, mentions and shared threads join two members."""

from __future__ import annotations

import random

from cogs.introductions._matching import make_groups
from cogs.introductions._talk import Said, mentioned, pairs_joined, talk_graph
from cogs.introductions._weights import Affinity, Person


def test_mentions_are_read_as_both_platforms_write_them() -> None:
    text = "thanks <@123> and <@!456>, ping <@U0ABC|ana> but not the <@&789> role or @everyone"
    assert mentioned(text) == {"123", "456", "U0ABC"}


def test_a_reply_a_mention_and_a_shared_thread_each_join_the_author() -> None:
    said = Said("ana", "hi <@CY>", replied_to="BO", thread_posters=frozenset({"DI", "ana"}))
    assert pairs_joined(said) == {frozenset({"ana", x}) for x in ("CY", "BO", "DI")}


def test_talking_to_oneself_or_to_the_bot_joins_nobody() -> None:
    said = Said("ana", "note to <@ana> and <@BOT>", replied_to="ana")
    assert pairs_joined(said, bots=frozenset({"BOT"})) == set()


def test_the_learned_graph_steers_a_round_across_two_pockets() -> None:
    left, right = ["L1", "L2", "L3", "L4"], ["R1", "R2", "R3", "R4"]
    stored = []
    for side in (left, right):
        for author in side:
            for said in (Said(author, f"<@{other}>") for other in side if other != author):
                stored.extend(tuple(sorted(p)) for p in pairs_joined(said))
    graph = talk_graph(stored)
    assert graph["L1"] == {"L2", "L3", "L4"}
    pool = [Person(u) for u in left + right]
    for seed in range(10):
        groups = make_groups(pool, set(), set(), Affinity(talked=graph), random.Random(seed))
        assert all({u[0] for u in g} == {"L", "R"} for g in groups)


def test_the_graph_links_both_ways_and_never_a_member_to_themselves() -> None:
    assert talk_graph([("ana", "ana"), ("ana", "bo")]) == {"ana": {"bo"}, "bo": {"ana"}}
