"""Numbered cases from chat: warn, note, case, cases, reason, void, and the mod-log."""

from __future__ import annotations

from sandbox.scenario import Community, Person


async def test_a_warned_member_is_told_why_and_the_case_is_numbered(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    done = await community.slash(alice, "moderation warn", member=bob, reason="spamming invites")
    assert done.ephemeral
    assert (
        community.readable(done.text) == "Case #1: warned @bob. They were told by direct message."
    )
    notice = community.dms_of(bob)[-1]
    assert "You were warned by the moderators" in notice.text
    assert "Reason: spamming invites" in notice.text and "case #1" in notice.text
    second = await community.slash(alice, "moderation note", member=bob, text="seems to calm down")
    assert community.readable(second.text) == "Case #2: note about @bob kept."
    assert len(community.dms_of(bob)) == 1  # a note is not sent to the member
    listed = await community.slash(alice, "moderation cases", member=bob)
    assert listed.ephemeral
    assert community.readable(listed.text).splitlines() == [
        "#2 note @bob by @alice: seems to calm down [actioned]",
        "#1 warn @bob by @alice, 1 pt: spamming invites [actioned]",
    ]


async def test_closed_dms_are_recorded_on_the_case(community: Community, alice: Person) -> None:
    bob = community.people["bob"]
    community.close_dms(bob)
    done = await community.slash(alice, "moderation warn", member=bob, reason="rude")
    assert "direct messages are closed, so they were not told" in community.readable(done.text)
    shown = await community.slash(alice, "moderation case", number=1)
    assert "not delivered (DMs closed)" in community.readable(shown.text)


async def test_refusals_are_private_and_open_no_case(community: Community, alice: Person) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    carl = await community.member_joins("carl")
    # Members see /moderation (they may report); a moderator's command is refused privately.
    by_member = await community.slash(bob, "moderation warn", member=carl, reason="meh")
    assert by_member.ephemeral and "moderator" in community.readable(by_member.text)
    on_self = await community.slash(alice, "moderation warn", member=alice, reason="oops")
    assert (
        on_self.ephemeral and community.readable(on_self.text) == "You cannot have yourself warned."
    )
    on_admin = await community.slash(alice, "moderation warn", member=ada, reason="x")
    assert "level with you or above" in community.readable(on_admin.text)
    on_owner = await community.slash(
        alice, "moderation warn", member=community.people["olivia"], reason="x"
    )
    assert "owner" in community.readable(on_owner.text)
    assert (
        community.readable((await community.slash(alice, "moderation cases")).text)
        == "No cases yet."
    )
    assert not [m for m in community.dms_of(carl) if "warned" in m.text]


async def test_void_and_reason_keep_the_record_and_its_history(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(alice, "moderation warn", member=bob, reason="sapm")
    await community.slash(alice, "moderation reason", number=1, text="spam")
    voided = await community.slash(alice, "moderation void", number=1, why="it was a bot test")
    assert (
        community.readable(voided.text)
        == "Case #1 is void; it stays on record but no longer counts."
    )
    shown = await community.slash(alice, "moderation case", number=1)
    assert "spam" in community.readable(
        shown.text
    ) and "void: it was a bot test" in community.readable(shown.text)
    moves = [
        line.split(" UTC ")[1]
        for line in community.readable(shown.text).splitlines()
        if " UTC " in line
    ]
    assert moves == [
        "action by @alice: open → actioned",
        "reason by @alice: actioned → actioned (spam)",
        "void by @alice: actioned → actioned (it was a bot test)",
    ]
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    assert len(log) == 1, log  # one post per case, edited as the case moves
    post = log[0].splitlines()
    assert post[:3] == [
        "Case #1: warn",
        "#1 warn @bob by @alice, 1 pt: spam [actioned] (void)",
        "Void: it was a bot test",
    ], post
    assert [line.split(" UTC ")[1] for line in post if " UTC " in line] == moves
    assert post[-1] == "Last change: voided by @alice: it was a bot test"
    missing = await community.slash(alice, "moderation case", number=9)
    assert missing.ephemeral and "There is no case #9 here" in community.readable(missing.text)


async def test_cases_are_filtered_by_member_moderator_status_and_kind(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    carl = await community.member_joins("carl")
    await community.slash(alice, "moderation warn", member=bob, reason="rude")
    await community.slash(ada, "moderation note", member=carl, text="new, watch")
    await community.slash(bob, "moderation report", member=carl, what="spam")

    async def listed(**filters: object) -> list[str]:
        shown = await community.slash(alice, "moderation cases", **filters)
        return [line.split(" ")[0] for line in community.readable(shown.text).splitlines()]

    assert await listed() == ["#3", "#2", "#1"]
    assert await listed(member=carl) == ["#3", "#2"]
    assert await listed(moderator=ada) == ["#2"]
    assert await listed(status="open") == ["#3"]
    assert await listed(kind="warn") == ["#1"]
    none = await community.slash(alice, "moderation cases", member=carl, kind="warn")
    assert none.text == "No cases match."
