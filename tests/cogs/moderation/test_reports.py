"""Member reports: private to the reporter, handled by the staff, the reporter told the outcome."""

from __future__ import annotations

from sandbox.scenario import Community, DiscordCommunity, Person, Posted


def _report_post(community: Community) -> Posted:
    posts = [m for m in community.messages_in("mods") if community.offers(m, "ack")]
    assert len(posts) == 1
    return posts[0]


async def test_a_report_reaches_the_staff_and_the_reporter_hears_action_was_taken(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    thanked = await community.slash(bob, "moderation report", member=carl, what="scam DMs")
    assert thanked.ephemeral
    assert thanked.text.startswith("Thanks for telling us. The moderators will look into it")
    assert not [m for m in community.messages_in("general") if "scam" in m.text]
    assert community.dms_of(carl) == []  # bystanders and the member are not told who reported
    post = _report_post(community)
    assert community.readable(post.text).endswith("Case #1: @bob reported @carl: scam DMs")
    assert community.offers(post, "dismiss") and community.offers(post, "act")
    taken = await community.click(alice, post, "ack")
    assert taken.ephemeral and taken.text.startswith("Case #1: you have it.")
    opened = await community.select(alice, post, "act", ["Time out for 1 day"])
    assert opened.form is not None
    done = community.readable(
        (await community.submit(alice, opened, {"reason": "scams in DMs"})).text
    )
    assert done.endswith("Report #1 is closed; the reporter was told action was taken.")
    if isinstance(community, DiscordCommunity):
        assert done.startswith("Case #2: timed out @carl.")
        notice = community.dms_of(carl)[-1].text
        assert "Reason: scams in DMs" in notice and "bob" not in community.readable(notice)
    else:
        assert done.startswith("Case #2 is open. Slack has no timeouts")
    told = [m.text for m in community.dms_of(bob)]
    assert len(told) == 1
    assert told[0].endswith(
        "the report you made and took action. Thank you for looking out for the community."
    )
    assert "carl" not in community.readable(told[-1]) and "time" not in told[-1].lower()
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    moves = [line.split(" UTC ")[1] for line in shown.splitlines() if " UTC " in line]
    assert moves == [
        "acknowledge by @alice: open → acknowledged",
        "action by @alice: acknowledged → actioned",
        "close by @alice: actioned → closed",
    ]


async def test_reports_are_limited_dismissed_once_and_a_bad_faith_reporter_is_barred(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure(
        "moderation", modlog_channel=community.channel_mention("mods"), reports_per_day="2"
    )
    for what in ("rude", "rude again"):
        await community.slash(bob, "moderation report", member=carl, what=what)
    third = await community.slash(bob, "moderation report", member=carl, what="still rude")
    assert third.ephemeral and third.text.startswith("You've made 2 reports today")
    on_self = await community.slash(bob, "moderation report", member=bob, what="me")
    assert on_self.text == "You can't report yourself."
    first = next(
        m
        for m in community.messages_in("mods")
        if "reported" in m.text and "rude again" not in m.text
    )
    dismissed = await community.click(alice, first, "dismiss")
    assert dismissed.text == "Case #1 dismissed; the reporter was told no action was taken."
    twice = await community.click(alice, first, "dismiss")  # pressed twice: told once
    assert twice.text == "Case #1 is already closed."
    told = [m.text for m in community.dms_of(bob) if "About your report" in m.text]
    assert len(told) == 1 and "took no action this time" in told[0]
    late = await community.click(alice, first, "ack")
    assert late.text == "This case is closed; nothing more can be done on it."
    barred = await community.slash(alice, "moderation reports bar", member=bob, why="spite")
    assert community.readable(barred.text) == (
        "Case #3: @bob can no longer report. `/moderation void 3` lifts it."
    )
    await community.advance(days=1)
    refused = await community.slash(bob, "moderation report", member=carl, what="rude")
    assert refused.text.startswith("The moderators have paused reports from you.")
    await community.slash(alice, "moderation void", number=3, why="talked it over")
    again = await community.slash(bob, "moderation report", member=carl, what="rude")
    assert again.text.startswith("Thanks for telling us.")


async def test_a_report_pings_who_is_on_duty_and_waits_are_raised_to_moderators_then_admins(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    carl = await community.member_joins("carl")
    community.add_role("Admins")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.configure("moderation", admin_role=community.role_mention("Admins"))
    on = await community.slash(alice, "moderation duty", state="on")
    assert on.text == "You're on duty: new reports ping you first. Nobody else is on duty."
    await community.slash(bob, "moderation report", member=carl, what="spam")
    assert [p for p in community.pings_of(alice) if "reported" in p.text]
    await community.slash(bob, "moderation report", member=carl, what="more spam")
    second = next(m for m in community.messages_in("mods") if "more spam" in m.text)
    await community.click(ada, second, "ack")  # case #2 is taken: it is never raised

    def raised() -> list[str]:
        return [
            community.readable(m.text) for m in community.messages_in("mods") if "waited" in m.text
        ]

    await community.advance(minutes=14)
    assert raised() == []
    await community.advance(minutes=1)
    assert len(raised()) == 1
    assert raised()[0].endswith(
        "Case #1, a member's report, has waited 15 minutes and nobody has acknowledged it. "
        "Could one of the moderators take it?"
    )
    await community.advance(minutes=15)
    assert len(raised()) == 2
    assert raised()[1] == (
        "@Admins Case #1, a member's report, has waited 30 minutes and nobody has "
        "acknowledged it. Could one of the admins take it?"
    )
    await community.advance(hours=1)
    assert len(raised()) == 2
    off = await community.slash(alice, "moderation duty", state="off")
    assert off.text == "You're off duty. Nobody else is on duty."
    pinged = len(community.pings_of(alice))
    await community.slash(bob, "moderation report", member=carl, what="spam again")
    assert len(community.pings_of(alice)) == pinged


async def test_a_message_is_reported_from_its_menu_with_a_snapshot_kept_as_evidence(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    posted = await community.says(carl, "cheap followers at scam.example")
    thanked = await community.message_action(bob, posted, "Report message")
    assert thanked.ephemeral and thanked.text.startswith("Thanks for telling us.")
    post = community.readable(_report_post(community).text)
    assert post.endswith("@bob reported @carl: this message: cheap followers at scam.example")
    await community.deletes(carl, posted)  # the evidence outlives the message
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "report by @bob: open → open (#general " in shown
    assert "UTC: cheap followers at scam.example)" in shown
    mine = await community.message_action(bob, await community.says(bob, "hi"), "Report message")
    assert mine.text == "You can't report yourself."


async def test_stats_show_how_fast_reports_were_taken_and_closed(
    community: Community, alice: Person
) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(bob, "moderation report", member=carl, what="spam")
    await community.advance(minutes=10)
    await community.click(alice, _report_post(community), "ack")
    await community.advance(minutes=20)
    await community.click(alice, _report_post(community), "dismiss")
    await community.slash(ada, "moderation report", member=carl, what="more spam")
    await community.slash(alice, "moderation warn", member=carl, reason="spam")
    shown = await community.slash(alice, "moderation stats")
    assert shown.ephemeral
    assert community.readable(shown.text).splitlines() == [
        "In the last 1w: 2 reports.",
        "Time to acknowledge: median 10m, p90 10m. Time to close: median 30m, p90 30m.",
        "@alice: took 1, median 10m.",
        "Open cases: 1 (1 under 1d).",
        "Actions: warn 1.",
        "Escalations open: none.",
    ]


async def test_moderators_ask_the_reporter_a_question_without_naming_themselves(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(bob, "moderation report", member=carl, what="weird DMs")
    asked = await community.slash(
        alice, "moderation ask", case=1, question="Could you say what the DMs said?"
    )
    assert asked.text.startswith("Asked the reporter of case #1;")
    question = community.dms_of(bob)[-1]
    assert "A moderator asks: Could you say what the DMs said?" in question.text
    assert "alice" not in community.readable(question.text)
    opened = await community.click(bob, question, "answer")
    assert opened.form is not None
    sent = await community.submit(bob, opened, {"answer": "He asked for my password"})
    assert sent.ephemeral and sent.text == "Thank you; the moderators have your answer."
    staff = [community.readable(m.text) for m in community.messages_in("mods")]
    assert any(t.endswith("Case #1: the reporter answers: He asked for my password") for t in staff)
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "ask by @alice: open → open (Could you say what the DMs said?)" in shown
    assert "answer by @bob: open → open (He asked for my password)" in shown
