"""A community where the test knows the truth: threads, follow-ups, agreement-only replies,
deleted questions, reactions taken back, leavers, long open lists and a past period.

Each situation is one a manager met where a figure was wrong; the figures shown are compared
with what the test knows happened, on both platforms and both databases.
"""

from __future__ import annotations

from typing import Any

import pytest

from cogs.engagement._models import EVENTS
from sandbox.discord import payloads
from sandbox.discord.state import PUBLIC_THREAD
from sandbox.scenario import (
    Community,
    DiscordCommunity,
    Person,
    Posted,
    SlackCommunity,
    replies,
    start_steward,
    stop_steward,
)
from tests.cogs.engagement.conftest import features
from tests.cogs.engagement.test_health_report import _count, _says_while_down, emoji, field


async def in_thread(community: Community, person: Person, root: Posted, text: str) -> Posted:
    """A person writes in the thread of a message (Discord: opened from it the first time)."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        world = fake.world
        thread = world.channels.get(root.raw.id)
        if thread is None:
            thread = world.add_channel(
                community.guild,
                "thread",
                PUBLIC_THREAD,
                channel_id=root.raw.id,
                parent_id=root.raw.channel_id,
                owner_id=person.id,
            )
            thread.thread_members.add(person.id)
            root.raw.thread_id = thread.id
            fake.dispatch(
                "THREAD_CREATE", {**payloads.channel(world, thread), "newly_created": True}
            )
            await community.settle()
        message = await fake.user_says(person.account, thread, text)
        await community.settle()
        return Posted(message.content, person.id, message)
    return await replies(community, person, root, text)


async def deletes(community: Community, posted: Posted) -> None:
    """The author deletes their message."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        await fake.user_deletes(posted.raw)
    else:
        assert isinstance(community, SlackCommunity)
        msg = posted.raw
        channel = fake.world.channels[msg.channel]
        fake.world.messages[channel.id].remove(msg)
        ts = fake.world.next_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": channel.id,
            "channel_type": channel.channel_type,
            "ts": ts,
            "event_ts": ts,
            "deleted_ts": msg.ts,
            "previous_message": dict(msg.data),
        }
        await fake.deliver_event(channel.team_id, event)
    await community.settle()


async def leaves(community: Community, person: Person) -> None:
    """A member leaves the community (Slack: their account is deactivated)."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        await fake.member_leaves(community.guild, person.account)
    else:
        person.account.deleted = True
        event = {"type": "user_change", "user": person.account.to_api(), "event_ts": "1"}
        await fake.deliver_event(person.account.team_id, event)
    await community.settle()


async def unreacts(community: Community, person: Person, posted: Posted, name: str) -> None:
    """A person takes their reaction back."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    await fake.unreact(person.account, posted.raw, emoji(community, name))
    await community.settle()


async def test_threads_agreement_deletions_and_leavers_are_counted_as_they_happened(
    community: Community,
) -> None:
    olivia, ada = community.people["olivia"], community.people["ada"]
    alice, bob = community.people["alice"], community.people["bob"]
    # Monday 2026-01-05. alice asks; bob answers in the thread after 10 minutes; alice asks a
    # follow-up in the thread, which ada (staff) answers 2 hours later.
    token = await community.says(alice, "how do I reset my token?")
    await community.advance(minutes=10)
    await in_thread(community, bob, token, "Settings, then Tokens, then Reset")
    await in_thread(community, alice, token, "and does that revoke the old one too?")
    await community.advance(hours=2)
    await in_thread(community, ada, token, "it does, right away")
    # bob asks; olivia and alice only agree: agreement answers nothing. Still open.
    hooks = await community.says(bob, "is the webhook limit per channel?")
    await in_thread(community, olivia, hooks, "Same problem here, following.")
    await replies(community, alice, hooks, "+1")
    # alice asks and deletes her question: it leaves the open list.
    gone = await community.says(alice, "where are the release notes?")
    await deletes(community, gone)
    # A reaction taken back and one that stays.
    await community.reacts(bob, token, emoji(community, "thumbsup"))
    await unreacts(community, bob, token, "thumbsup")
    await community.reacts(olivia, token, emoji(community, "eyes"))
    # Two people join; one leaves the next day, the other never posts.
    await community.advance(days=1)
    nina = await community.member_joins("nina")
    await community.member_joins("sam")
    await community.says(nina, "hi all")
    await community.advance(hours=1)
    await leaves(community, nina)

    shown = await community.slash(ada, "engagement report", period="7d")
    text = community.readable(shown.text)
    # Messages: 3 asked in general (the deleted one was posted), 4 in threads under them,
    # alice's "+1" (agreement still counts as a message), nina's hello.
    assert field(text, "Messages") == "9"
    assert field(text, "Reactions") == "1"
    assert field(text, "Questions") == (
        "3 asked, 2 answered (67%); median first answer 1h 5m; 33% answered within 1 hour, "
        "67% within 24 hours"
    )
    assert field(text, "Answered by") == "staff 50%, members 50% (first answers)"
    assert field(text, "Top helpers") == "@ada 1, @bob 1 (first answers to others' questions)"
    assert field(text, "Open questions") == "1 open, the oldest asked 25h 0m ago"
    assert field(text, "Members") == (
        "2 joined, 1 left, net +1; 1 of those who joined has never posted"
    )
    # The threads count in #general: one channel holds every message.
    general = await community.slash(
        ada, "engagement report", period="7d", channel=community.channel_mention("general")
    )
    assert field(general.text, "Messages") == "9"
    assert "Members:" not in general.text and "Retention" not in general.text

    listed = community.readable((await community.slash(ada, "engagement unanswered")).text)
    assert "@bob in " in listed and "@alice" not in listed


async def test_a_long_open_list_is_shown_whole_with_every_name(community: Community) -> None:
    ada = community.people["ada"]
    askers = [await community.member_joins(f"asker{i:02d}") for i in range(16)]
    for person in askers:
        await community.says(person, f"has anyone tried the {person.name} plugin?")
    seen = await community.slash(ada, "engagement unanswered")
    text = community.readable(seen.text)
    assert text.startswith("Unanswered questions (16 open, the oldest asked 0m ago):")
    for person in askers:  # every asker named, none cut off or shown as "someone"
        assert f"@{person.name} in " in text
    assert "someone" not in text
    for part in seen.texts:
        assert len(part) <= 2000
    if community.platform == "discord":
        assert len(seen.texts) >= 2  # more than one message's worth: split, not clipped


async def test_retention_of_a_past_period_counts_nothing_after_it(community: Community) -> None:
    ada = community.people["ada"]
    # Week of Mon 2026-01-05: p1 and p2 join. Week of Jan 12: p1 comes back. Week of Jan 19:
    # p2 comes back and p3 joins. The report for Jan 5-18 must not know the week of Jan 19.
    p1 = await community.member_joins("p1")
    p2 = await community.member_joins("p2")
    await community.says(p1, "hello")
    await community.advance(days=8)
    await community.says(p1, "back again")
    await community.advance(days=7)
    await community.says(p2, "back at last")
    await community.member_joins("p3")
    await community.advance(days=21)  # Tuesday 2026-02-10: the week of Feb 2 is over

    past = await community.slash(ada, "engagement report", period="2026-01-05..2026-01-18")
    text = community.readable(past.text)
    assert "later (a week still running is not shown yet):" in text
    cohorts = [line for line in text.splitlines() if line.startswith("week of ")]
    assert cohorts == [
        "week of 2026-01-05: 2 joined; week 1 50%, week 2 not over yet, week 4 not over yet"
    ]
    now = await community.slash(ada, "engagement report", period="30d")
    cohorts = [
        line for line in community.readable(now.text).splitlines() if line.startswith("week of ")
    ]
    assert cohorts == [
        "week of 2026-01-05: 2 joined; week 1 50%, week 2 50%, week 4 0%",
        "week of 2026-01-19: 1 joined; week 1 0%, week 2 0%, week 4 not over yet",
    ]


def attachment(community: Community, seen: Any, name: str) -> bytes:
    """The bytes of a file shown with an answer, as the person would download them."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        for message in seen.messages:
            for a in message.attachments:
                if a["filename"] == name:
                    return bytes(fake.attachments[a["id"]])
        raise AssertionError(f"no {name} shown")
    found = [f for f in fake.world.files.values() if f.name == name]
    assert found, f"no {name} uploaded"
    return bytes(found[-1].data)


async def test_the_export_holds_the_daily_figures_per_channel_by_name(community: Community) -> None:
    ada, alice, bob = community.people["ada"], community.people["alice"], community.people["bob"]
    asked = await community.says(alice, "how do I export the figures?")
    await community.advance(minutes=3)
    await in_thread(community, bob, asked, "engagement export, as an admin")
    await community.reacts(alice, asked, emoji(community, "thumbsup"))
    await community.says(bob, "hello intros", channel="intros")
    await community.advance(days=1)
    await community.says(alice, "thanks!", channel="intros")

    shown = await community.slash(ada, "engagement export")
    assert shown.ephemeral
    rows = attachment(community, shown, "engagement.csv").decode().splitlines()
    general = _mood(["how do I export the figures?", "engagement export, as an admin"])
    assert rows == [
        "date,channel,active_members,messages,reactions,replies,questions,"
        "questions_answered,mean_sentiment",
        # alice asked and reacted, bob answered in the thread (counted in #general).
        f"2026-01-05,#general,2,2,1,1,1,1,{general}",
        f"2026-01-05,#intros,1,1,0,0,0,0,{_mood(['hello intros'])}",
        f"2026-01-06,#intros,1,1,0,0,0,0,{_mood(['thanks!'])}",
    ]
    for person in (alice, bob, ada):
        assert person.id not in "\n".join(rows)  # nobody is named


def _mood(texts: list[str]) -> str:
    from cogs.engagement._sentiment import sentiment

    return f"{sum(sentiment(t) for t in texts) / len(texts):.3f}"


async def test_opting_back_in_counts_again_from_then_on(community: Community) -> None:
    bob = community.people["bob"]
    await community.says(bob, "counted")
    out = await community.slash(bob, "engagement optout")
    assert out.ephemeral and "optin" in out.text
    await community.says(bob, "not counted")
    back = await community.slash(bob, "engagement optin")
    assert back.ephemeral and back.text == "Your activity counts again from now on."
    await community.says(bob, "counted again")
    await community.reacts(
        bob,
        await community.says(community.people["alice"], "hi"),
        "👍" if community.platform == "discord" else "thumbsup",
    )
    mine = await community.slash(bob, "engagement me", period="7d")
    assert mine.ephemeral
    # What was stored before the opt-out was deleted; only what followed the opt-in counts.
    assert field(mine.text, "Messages") == "1"
    assert field(mine.text, "Reactions") == "1"


async def test_periods_and_channels_are_understood_as_typed(community: Community) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    await community.says(alice, "hello general")
    await community.says(alice, "hello intros", channel="intros")

    quarter = await community.slash(ada, "engagement report", period="3 months")
    assert quarter.text.startswith("Engagement 2025-10-06 – 2026-01-05\n"), quarter.text
    assert field(quarter.text, "Messages") == "2"
    by_name = await community.slash(ada, "engagement report", period="7d", channel="general")
    assert field(by_name.text, "Messages") == "1"
    assert field(by_name.text, "Active members").startswith("1 posted or reacted")
    unknown = await community.slash(ada, "engagement report", period="7d", channel="nowhere")
    assert unknown.ephemeral and "I don't know a channel called `nowhere`" in unknown.text
    for typed, said in (
        ("0d", "A period needs at least one day"),
        ("99999d", "give at most 3660 days"),
        ("2026-01-31..2026-01-01", "ends (2026-01-01) before it starts (2026-01-31)"),
        ("soon", "I don't understand the period `soon`"),
    ):
        refused = await community.slash(ada, "engagement report", period=typed)
        assert refused.ephemeral and said in refused.text, refused.text


# Only on Slack: conversations.replies pages are Slack's.
@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_a_long_slack_thread_is_read_back_page_by_page(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.slack import history

    monkeypatch.setattr(history, "PAGE", 5)  # pages of 5 rather than 200: 12 replies, 3 pages
    alice, bob = community.people["alice"], community.people["bob"]
    root = await community.says(alice, "what's everyone working on?")
    await community.says(alice, "the last message stored before the outage")
    await stop_steward(community)
    for i in range(12):
        await _says_while_down(community, bob, f"reply {i}", to=root.raw)
    await start_steward(community, features())
    assert await _count(community, EVENTS, kind="message", user_id=bob.id) == 12
