"""A season of introductions as members and managers see it, on both platforms and databases."""

from __future__ import annotations

import itertools

from sandbox.scenario import Community, Person, Posted
from tests.cogs.onboarding.world import chart_sent


def _group_of(
    community: Community, person: Person, round_number: int
) -> tuple[list[str], list[Posted]]:
    """Who is in the person's group of that round (read from the introduction), and its messages."""
    conversations = [
        c for c in community.groups_of(person) if any("Meet each other" in m.text for m in c)
    ]
    intros = [(c, m) for c in conversations for m in c if "Meet each other" in m.text]
    conversation, intro = intros[round_number - 1]
    text = community.readable(intro.text)
    names = sorted(n for n in community.people if f"@{n}" in text.split("!")[0])
    return names, conversation


async def test_a_season_of_rounds(community: Community) -> None:
    ada = community.people["ada"]
    for name in ("carol", "dan", "erin"):
        await community.member_joins(name)
    people = community.people
    await community.configure("steward", timezone="Europe/Paris")
    settings = {
        "round_time": "11:00",
        "history_rounds": "1",
        "thanks_channel": community.channel_mention("welcome"),
    }
    if community.platform == "discord":
        settings["thread_channel"] = community.channel_mention("general")
    await community.configure("introductions", **settings)

    # Members opt in; one keeps a private do-not-pair wish, the moderators keep another.
    pool = ["olivia", "ada", "alice", "bob", "carol", "dan", "erin"]
    for name in pool:
        joined = await community.slash(people[name], "introductions join")
        assert joined.ephemeral and "You're in!" in joined.text
    again = await community.slash(people["bob"], "introductions join")
    assert "already in the introductions pool" in again.text
    avoided = await community.slash(people["dan"], "introductions avoid", member=people["erin"])
    assert avoided.ephemeral and "Nobody else is told" in avoided.text
    blocked = await community.slash(
        ada, "introductions block", member=people["alice"], other=people["bob"]
    )
    assert "won't be put together" in community.readable(blocked.text)
    refused = await community.slash(
        people["bob"], "introductions block", member=people["alice"], other=people["carol"]
    )
    assert refused.ephemeral and "won't be put together" not in refused.text
    assert "moderator" in refused.text.lower()

    # The manager starts rounds: Monday 11:00 in Paris is 10:00 UTC, an hour from the start.
    started = await community.slash(ada, "introductions start")
    assert "The next round starts Monday 05 January at 11:00 (Europe/Paris)" in started.text
    await community.advance(minutes=59)
    assert not any(community.groups_of(people[n]) for n in pool)
    await community.advance(minutes=1)

    first: dict[str, list[str]] = {}
    for name in pool:
        members, conversation = _group_of(community, people[name], 1)
        first[name] = members
        assert name in members and 2 <= len(members) <= 3
    groups = {tuple(m) for m in first.values()}
    assert sorted(len(g) for g in groups) == [2, 2, 3]  # seven people: two pairs and a trio
    for group in groups:
        assert not {"alice", "bob"} <= set(group)  # the moderators' list
        assert not {"dan", "erin"} <= set(group)  # dan's own wish
        for name in group:  # each sees only their own group's conversation
            assert first[name] == list(group)
    # Nobody outside a group is pinged by its introduction.
    for name in pool:
        for posted in community.pings_of(people[name]):
            if "Meet each other" in posted.text:
                assert f"@{name}" in community.readable(posted.text)

    me = await community.slash(people["alice"], "introductions me")
    partners = [n for n in first["alice"] if n != "alice"]
    assert "You're in the pool for the next round" in community.readable(me.text)
    assert all(f"@{p}" in community.readable(me.text) for p in partners)

    # Midway: a check-in in each group; alice's group met.
    await community.advance(days=3, hours=12)
    _, conversation = _group_of(community, people["alice"], 1)
    check_in = next(m for m in conversation if "Have you met yet?" in m.text)
    answered = await community.click(people["alice"], check_in, "met")
    assert answered.ephemeral and "noted that you met" in answered.text
    stranger = next(n for n in pool if n not in first["alice"])
    refused_press = await community.click(people[stranger], check_in, "met")
    assert "for the members of that group" in refused_press.text

    # alice thanks someone she met, and they agree to show it; nobody else can be thanked.
    partner = people[partners[0]]
    thanked = await community.slash(
        people["alice"],
        "introductions thanks",
        member=partner,
        note="Lovely chat @everyone",
        share=True,
    )
    assert thanked.ephemeral and "Sent your thank-you" in thanked.text
    dm = community.dms_of(partner)[-1]
    assert "@alice says thank you for meeting" in community.readable(dm.text)
    assert not community.messages_in("welcome")
    shared = await community.click(partner, dm, "share_thanks")
    assert "Shared in" in shared.text
    (public,) = community.messages_in("welcome")
    assert f"@alice thanked @{partner.name} for meeting" in community.readable(public.text)
    assert not [p for p in community.pings_of(people["bob"]) if "thanked" in p.text]  # no @everyone
    again = await community.click(partner, dm, "share_thanks")
    assert "already in the channel" in again.text and len(community.messages_in("welcome")) == 1
    wrong = await community.slash(people["alice"], "introductions thanks", member=people[stranger])
    assert "someone you were introduced to" in wrong.text
    # Thank-yous are not a megaphone: never past a do-not-pair list, once a week per person.
    dms = len(community.dms_of(partner))
    await community.slash(partner, "introductions avoid", member=people["alice"])
    avoided = await community.slash(people["alice"], "introductions thanks", member=partner)
    assert avoided.ephemeral and "can't pass a thank-you" in avoided.text
    await community.slash(partner, "introductions unavoid", member=people["alice"])
    twice = await community.slash(people["alice"], "introductions thanks", member=partner)
    assert twice.ephemeral and "thanked them this week already" in twice.text
    assert len(community.dms_of(partner)) == dms

    stats = await community.slash(ada, "introductions stats")
    assert "7 members in the pool (7 not paused)" in stats.text
    assert "Round 1 (2026-01-05): 7 people in 3 groups, met in 1 (33%), still running" in stats.text
    assert chart_sent(community, stats)  # groups and groups that met, per round
    overview = await community.slash(ada, "introductions settings")
    assert (
        "Introductions are on; next round Monday 12 January at 11:00 (Europe/Paris)"
        in overview.text
    )
    met = await community.slash(ada, "introductions history", member=people["alice"])
    shown = community.readable(met.text)
    assert "Round 1: " in shown and "(met)" in shown and all(f"@{p}" in shown for p in partners)

    # Round 2: nobody meets someone from round 1 again (history of one round).
    await community.advance(days=3, hours=12)
    for name in pool:
        members, _ = _group_of(community, people[name], 2)
        assert not set(itertools.combinations(sorted(members), 2)) & set(
            itertools.combinations(sorted(first[name]), 2)
        )

    # Rounds 3 and 4: carol never answered three rounds in a row and is paused, and told how
    # to come back; alice answered in round 1, so she is not.
    await community.advance(days=7)
    await community.advance(days=7)
    ghost = [m for m in community.dms_of(people["carol"]) if "paused yours" in m.text]
    assert len(ghost) == 1 and "/introductions join" in ghost[0].text
    assert not [m for m in community.dms_of(people["alice"]) if "paused yours" in m.text]
    paused = await community.slash(people["carol"], "introductions me")
    assert "paused until you come back" in paused.text
    # Everyone but alice is paused now, so round 4 had nobody to introduce her to.
    stats = await community.slash(ada, "introductions stats")
    assert "7 members in the pool (1 not paused)" in stats.text
    assert "Round 1 (2026-01-05): 7 people in 3 groups, met in 1 (33%)\n" in stats.text
    assert "Round 3 (2026-01-19)" in stats.text and "Round 4" not in stats.text
    back = await community.slash(people["carol"], "introductions join")
    assert "You're in!" in back.text
