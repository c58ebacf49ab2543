"""Managing automod rules from chat, and `automod test` explaining privately what would fire."""

from __future__ import annotations

from sandbox.scenario import Community, Person


async def test_a_manager_adds_rules_and_tests_a_message_privately(
    community: Community, alice: Person
) -> None:
    ada = community.people["ada"]
    saved = await community.slash(ada, "moderation automod add", kind="word", value="spam")
    assert saved.ephemeral
    assert saved.text == (
        'Saved #1 word "spam" → dry run: recorded only. It starts in dry run; '
        "`/moderation automod dryrun 1 off` makes it act."
    )
    await community.slash(ada, "moderation automod add", kind="mentions", value="5", action="warn")
    acting = await community.slash(ada, "moderation automod dryrun", rule=2, state="off")
    assert acting.text == "#2 5+ mentions → warn (1 point)"
    tested = await community.slash(alice, "moderation automod test", text="buy 5P@M now")
    assert tested.ephemeral
    assert tested.text == '#1 word: blocked word "spam" found as "5P@M" → dry run: recorded only'
    clean = await community.slash(alice, "moderation automod test", text="hello there")
    assert clean.text == "No rule would fire on that."
    listed = await community.slash(alice, "moderation automod list")
    assert listed.text.splitlines() == [
        '#1 word "spam" → dry run: recorded only',
        "#2 5+ mentions → warn (1 point)",
    ]
    await community.slash(ada, "moderation automod remove", rule=1)
    assert "#1" not in (await community.slash(alice, "moderation automod list")).text


async def test_a_pattern_re2_cannot_run_is_refused_with_the_reason(
    community: Community, alice: Person
) -> None:
    ada = community.people["ada"]
    refused = await community.slash(ada, "moderation automod add", kind="regex", value=r"(\w+) \1")
    assert refused.ephemeral
    assert refused.text.startswith("I can't save that rule. RE2 cannot use this pattern:")
    bad_rate = await community.slash(ada, "moderation automod add", kind="flood", value="lots")
    assert bad_rate.text == "A flood rule takes like `5 in 10s`."
    listed = await community.slash(alice, "moderation automod list")
    assert listed.text == "No automod rules yet."
