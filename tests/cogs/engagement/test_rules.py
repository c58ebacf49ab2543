"""The counting rules on plain values: what an event stores and what a stored row adds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core import CommunityRef, MessagePosted, MessageRef, ReactionAdded, ReactionRemoved
from bot.core.ids import ChannelRef, UserRef
from bot.core.members import Level, Member
from cogs.engagement._rules import (
    CHANNEL,
    THREAD,
    answers_of,
    item_of,
    rollup_deltas,
    row_of,
    withdrawn,
)

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)
WHERE = CommunityRef("discord", "1")


def _posted(text: str, channel: str = "10", parent: str | None = None, who: str = "7") -> Any:
    return MessagePosted(
        community=WHERE,
        at=AT,
        message=MessageRef(ChannelRef(WHERE, channel), "99"),
        author=Member(UserRef(WHERE, who), who, Level.MEMBER),
        text=text,
        in_thread=parent is not None,
        parent_channel=parent,
    )


def test_a_discord_thread_message_counts_in_its_parent_channel() -> None:
    item = item_of(_posted("in the thread", channel="50", parent="10"), AT)
    assert item is not None
    assert (item[CHANNEL], item[THREAD]) == ("10", "50")


def test_a_reaction_in_a_known_thread_counts_in_the_parent_and_taking_it_back_undoes_it() -> None:
    message = MessageRef(ChannelRef(WHERE, "50"), "99")
    user = UserRef(WHERE, "8")
    added = item_of(
        ReactionAdded(community=WHERE, at=AT, message=message, user=user, emoji="x"),
        AT,
        {"50": "10"},
    )
    removed = item_of(
        ReactionRemoved(community=WHERE, at=AT, message=message, user=user, emoji="x"), AT
    )
    assert added is not None and removed is not None
    assert added[CHANNEL] == "10"
    assert row_of(removed, frozenset())["_undoes"] == added[3]  # the reaction's own key
    members, channels, _ = rollup_deltas(
        [row_of(added, frozenset()), withdrawn(WHERE.key, 20458, "8", "10")]
    )
    assert [v["reactions"] for v in members.values()] == [0]
    assert [v["reactions"] for v in channels.values()] == [0]


def test_agreement_answers_nothing_and_a_thread_reply_may_answer() -> None:
    agree = row_of(
        item_of(_posted("same here, following", channel="50", parent="10"), AT), frozenset()
    )  # type: ignore[arg-type]
    answer = row_of(
        item_of(_posted("try the reset page", channel="50", parent="10"), AT), frozenset()
    )  # type: ignore[arg-type]
    found = answers_of([agree, answer])
    assert len(found) == 1
    assert found[0][5:] == ("50", "10")  # in thread 50 of channel 10


def test_keys_name_the_event_not_when_it_was_received() -> None:
    """A replayed event (a resumed Discord session sends it again, later) has the key it had;
    another event with the same content (a second leaving, a second taking back) has another."""
    from bot.core import MemberLeft, MessageDeleted, MessageEdited

    message = MessageRef(ChannelRef(WHERE, "10"), "99")
    user = UserRef(WHERE, "8")
    later = datetime(2026, 1, 5, 10, tzinfo=UTC)

    def key(event: Any, received: datetime = AT) -> str:
        item = item_of(event, received)
        assert item is not None
        return str(item[3])

    def left(delivery: str) -> MemberLeft:
        return MemberLeft(community=WHERE, at=AT, user=user, delivery=delivery)

    def taken_back(delivery: str) -> ReactionRemoved:
        return ReactionRemoved(
            community=WHERE, at=AT, message=message, user=user, emoji="x", delivery=delivery
        )

    def edit(at: datetime) -> MessageEdited:
        return MessageEdited(community=WHERE, at=at, message=message, author=user, text="t")

    assert key(left("s:5")) == key(left("s:5"), later) != key(left("s:9"))
    assert key(taken_back("s:5")) == key(taken_back("s:5"), later) != key(taken_back("s:9"))
    assert key(edit(AT)) == key(edit(AT), later) != key(edit(later))
    deleted = MessageDeleted(community=WHERE, at=AT, message=message)
    assert key(deleted) == key(MessageDeleted(community=WHERE, at=later, message=message))
    # Slack's events carry their own time (no delivery): that names them.
    assert key(left("")) != key(MemberLeft(community=WHERE, at=later, user=user))
