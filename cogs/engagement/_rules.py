"""Engagement's counting rules, pure: what an event stores, and what a stored row adds.

``item_of`` turns a platform event into the small tuple queued for the writer; ``row_of`` turns
an item into its raw event row (the text becomes flags and a score, then is dropped);
``rollup_deltas`` says what new rows add to each daily rollup, and ``answers_of`` which
questions a new message answers. No database here: the writer (``_store``) applies them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core import (
    Event,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    occurrence,
)
from bot.core.members import Level
from cogs.engagement._gaps import days_of_blocks
from cogs.engagement._keys import message_key, sequence, target_key
from cogs.engagement._metrics import day_number, week_of
from cogs.engagement._sentiment import sentiment
from cogs.engagement._text import is_agreement, is_question

COUNTS = (
    "messages",
    "reactions",
    "replies",
    "questions",
    "p2p_replies",
    "staff_replies",
    "sentiment_sum",
    "sentiment_n",
)
Item = tuple[Any, ...]
"""A queued event (see ``item_of`` for the fields)."""
Rules = dict[str, tuple[bool, frozenset[str]]]
"""Per community: whether tracking is on, and the staff role ids."""

# Fields of an item, by position.
CID, AT, KIND, KEY, USER, CHANNEL, THREAD, MESSAGE, TARGET, TEXT, FILES, MOD, ROLES, UNDOES = range(
    14
)


def item_of(event: Event, at: datetime, parents: Mapping[str, str] | None = None) -> Item | None:
    """The queued form of an event, or None when it is not stored (bots, other events).

    ``(community, at as a POSIX time, kind, key, user, channel, thread, message, target key,
    text, attachments, author is a moderator, author's role ids, key of the reaction taken
    back)``; positions above. A Discord thread's activity counts in its parent channel, as on
    Slack: messages carry their parent, reactions find it in ``parents`` (thread id -> parent id,
    learnt from the messages).
    """
    cid = event.community.key
    ts = at.timestamp()
    if isinstance(event, MessagePosted):
        author = event.author
        if author.is_bot:
            return None
        ref = event.message
        channel = ref.channel
        return (
            cid,
            ts,
            "message",
            "m:" + message_key(ref),
            author.ref.id,
            event.parent_channel or channel.id,
            channel.thread or (channel.id if event.in_thread else None),
            ref.id,
            target_key(event),
            event.text,
            event.attachments,
            author.level >= Level.MOD,
            tuple(r.id for r in author.roles) if author.roles else (),
            None,
        )
    if isinstance(event, ReactionAdded | ReactionRemoved):
        added = isinstance(event, ReactionAdded)
        mkey = message_key(event.message)
        # A reaction is one row while it stands: taking it back deletes that row (and its
        # count), so adding it again counts again, and history (which lists the reactions
        # standing) agrees with what was counted live.
        reaction = f"r:{mkey}:{event.user.id}:{event.emoji}"
        key = (
            reaction
            if isinstance(event, ReactionAdded)
            else f"u:{reaction[2:]}:{occurrence(event)}"
        )
        channel_id = event.message.channel.id
        thread = channel_id if parents and channel_id in parents else None
        return (
            cid,
            ts,
            "reaction" if added else "unreaction",
            key,
            event.user.id,
            parents[channel_id] if parents and thread else channel_id,
            thread,
            event.message.id,
            mkey,
            None,
            0,
            False,
            (),
            None if added else reaction,
        )
    if isinstance(event, MessageEdited | MessageDeleted):
        edited = isinstance(event, MessageEdited)
        mkey = message_key(event.message)
        editor = event.author if isinstance(event, MessageEdited) else None
        # An edit is named by its own time (Discord's edited_timestamp, Slack's event ts); a
        # message is deleted once. Neither key is the time it was received: a replayed event
        # (a resumed Discord session) finds its key taken.
        return (
            cid,
            ts,
            "edit" if edited else "delete",
            f"e:{mkey}:{event.at.isoformat()}" if edited else f"d:{mkey}",
            editor.id if editor is not None else "",
            event.message.channel.id,
            None,
            event.message.id,
            mkey,
            event.text if isinstance(event, MessageEdited) else None,
            0,
            False,
            (),
            None,
        )
    if isinstance(event, MemberJoined):
        if event.member.is_bot:
            return None
        user = event.member.ref.id
        return (cid, ts, "join", f"j:{user}:{event.at.isoformat()}", user, *_NOTHING)
    if isinstance(event, MemberLeft):
        user = event.user.id
        return (cid, ts, "leave", f"l:{user}:{occurrence(event)}", user, *_NOTHING)
    return None


_NOTHING = (None, None, None, None, None, 0, False, (), None)


def row_of(item: Item, staff_roles: frozenset[str]) -> dict[str, Any]:
    """The raw event row of an item: the text becomes a question flag and a sentiment score."""
    at = datetime.fromtimestamp(item[AT], UTC)
    text = item[TEXT]
    kind = item[KIND]
    row: dict[str, Any] = {
        "community_id": item[CID],
        "key": item[KEY],
        "kind": kind,
        "at": at,
        "day": day_number(item[AT]),
        "user_id": item[USER],
        "channel_id": item[CHANNEL],
        "thread_id": item[THREAD],
        "message_id": item[MESSAGE],
        "target_key": item[TARGET],
        "target_user_id": None,
        "length": 0 if text is None else len(text),
        "attachments": item[FILES],
        "is_question": False if text is None else is_question(text),
        "sentiment": sentiment(text) if kind == "message" else None,
        "from_staff": bool(item[MOD]) or any(r in staff_roles for r in item[ROLES]),
    }
    if kind == "message":
        # Not a column: whether this message can answer a question ("+1" and "same here"
        # cannot).
        row["_answers"] = not is_agreement(text or "")
    elif kind == "unreaction":
        row["_undoes"] = item[UNDOES]
    return row


WITHDRAWN = "withdrawn"
"""The kind of a (never stored) row standing for a stored reaction that was taken back."""


def withdrawn(community: str, day: int, user: str, channel: str | None) -> dict[str, Any]:
    """The row that takes a stored reaction's count back (see ``rollup_deltas``)."""
    return {
        "kind": WITHDRAWN,
        "community_id": community,
        "day": day,
        "user_id": user,
        "channel_id": channel,
    }


def answers_of(rows: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each new message may answer: ``(at, user, from staff, community, key replied to,
    thread, channel)``.

    A message answers the question it replies to (Discord's reply, or the root of the thread
    it is in) and every earlier question by someone else in the same thread (follow-ups);
    agreement alone ("+1", "same here", an emoji) answers nothing. The first answer by someone
    other than the asker wins (the SQL checks who asked and when).
    """
    return [
        (
            r["at"],
            r["user_id"],
            bool(r["from_staff"]),
            r["community_id"],
            "m:" + r["target_key"] if r["target_key"] else None,
            r["thread_id"],
            r["channel_id"],
        )
        for r in rows
        if r["kind"] == "message" and r.get("_answers") and (r["target_key"] or r["thread_id"])
    ]


def deleted_questions(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(community, question key)`` of each deleted message: a deleted question is not open."""
    return [(r["community_id"], "m:" + r["target_key"]) for r in rows if r["kind"] == "delete"]


def _zero() -> dict[str, float]:
    return dict.fromkeys(COUNTS, 0)


def rollup_deltas(
    rows: Iterable[dict[str, Any]],
) -> tuple[
    dict[tuple[str, int, str], dict[str, float]],
    dict[tuple[str, str, int, str], dict[str, float]],
    dict[tuple[str, int, str, str, str], int],
]:
    """Per member-day, per channel-member-day and per reply edge: what these new rows add.

    A ``WITHDRAWN`` row (a stored reaction that was taken back) takes its reaction away.
    """
    members: dict[tuple[str, int, str], dict[str, float]] = defaultdict(_zero)
    channels: dict[tuple[str, str, int, str], dict[str, float]] = defaultdict(_zero)
    edges: dict[tuple[str, int, str, str, str], int] = defaultdict(int)
    for r in rows:
        kind = r["kind"]
        if kind in ("reaction", WITHDRAWN):
            cid, day, user, channel = r["community_id"], r["day"], r["user_id"], r["channel_id"]
            sign = 1 if kind == "reaction" else -1
            members[(cid, day, user)]["reactions"] += sign
            channels[(cid, channel, day, user)]["reactions"] += sign
            continue
        if kind != "message":
            continue
        cid, day, user, channel = r["community_id"], r["day"], r["user_id"], r["channel_id"]
        question = 1 if r["is_question"] else 0
        mood = r["sentiment"] or 0.0
        to = r.get("target_user_id")
        replied = to is not None and to != user
        kind_of_reply = None  # a reply to staff is neither peer-to-peer nor staff-to-member
        if to is not None and replied:
            edges[(cid, day, channel, user, to)] += 1
            if not r.get("_target_staff", False):
                kind_of_reply = "staff_replies" if r["from_staff"] else "p2p_replies"
        for bucket in (members[(cid, day, user)], channels[(cid, channel, day, user)]):
            bucket["messages"] += 1
            bucket["questions"] += question
            bucket["sentiment_sum"] += mood
            bucket["sentiment_n"] += 1
            if replied:
                bucket["replies"] += 1
                if kind_of_reply is not None:
                    bucket[kind_of_reply] += 1
    return members, channels, edges


def member_day_rows(
    members: dict[tuple[str, int, str], dict[str, float]],
) -> list[tuple[Any, ...]]:
    """The member-day increments as rows: (community, day, member, *COUNTS)."""
    return [(c, d, u, *(v[n] for n in COUNTS)) for (c, d, u), v in members.items()]


def day_rows(members: dict[tuple[str, int, str], dict[str, float]]) -> list[tuple[Any, ...]]:
    """The community-day increments (the member-days added up): (community, day, *COUNTS)."""
    days: dict[tuple[str, int], dict[str, float]] = defaultdict(_zero)
    for (cid, day, _user), v in members.items():
        total = days[(cid, day)]
        for name in COUNTS:
            total[name] += v[name]
    return [(c, d, *(t[n] for n in COUNTS)) for (c, d), t in days.items()]


_SLOTS = {"join": (0,), "reaction": (1, 2), "message": (1, 2, 3, 5), "leave": (4,)}
"""Which span days a kind of row may move: joined, first active, last active, first posted,
last left, last posted."""
_LATEST = (False, False, True, False, True, True)
"""Per span day: the latest wins (else the earliest)."""
WEEKS_KEPT = 63
"""Weeks of ``engagement_members.weeks``: bit k is week k after the join week (0: that week)."""


def weeks_bits(days: Iterable[int], base: int) -> int:
    """The weeks of ``days`` as bits, bit k for ``week_of(base) + k`` (``WEEKS_KEPT`` of them;
    days before ``base``'s week and after the last kept week are left out)."""
    start = week_of(base)
    bits = 0
    for day in days:
        k = week_of(day) - start
        if 0 <= k < WEEKS_KEPT:
            bits |= 1 << k
    return bits


def member_spans(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per member in these rows: (community, member, earliest join day, first and last active
    days, first day they posted, last day they left, last day they posted, active weeks).

    The active weeks are bits from the week of the earliest of the join and active days here
    (the SQL shifts them onto the member's join week; ``joined_weeks`` redoes a member whose
    join day these rows may have moved).
    """
    spans: dict[tuple[str, str], list[int | None]] = {}
    active: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in rows:
        kind = r["kind"]
        slots = _SLOTS.get(kind)
        if slots is None:
            continue
        member = (r["community_id"], r["user_id"])
        span = spans.get(member)
        if span is None:
            span = spans[member] = [None] * len(_LATEST)
        day = r["day"]
        if kind == "message" or kind == "reaction":
            active[member].add(day)
        for i in slots:
            current = span[i]
            if current is None or (day > current if _LATEST[i] else day < current):
                span[i] = day
    found = []
    for (c, u), span in spans.items():
        days = active.get((c, u), ())
        base = min((d for d in (span[0], span[1]) if d is not None), default=None)
        found.append((c, u, *span, 0 if base is None else weeks_bits(days, base)))
    return found


def joined_members(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(community, member)`` of each join in these rows: their active weeks are counted
    again from the stored days (the join day may have moved earlier)."""
    return sorted({(r["community_id"], r["user_id"]) for r in rows if r["kind"] == "join"})


def weeks_blocks(joined: int, block_days: int) -> range:
    """The member blocks that hold the ``WEEKS_KEPT`` weeks from the week of ``joined``."""
    first = week_of(joined) * 7 - 3
    return range(first // block_days, (first + 7 * WEEKS_KEPT - 1) // block_days + 1)


def weeks_of_blocks(joined: int, blocks: Iterable[tuple[int, int]], block_days: int) -> int:
    """A member's active weeks (bits from the week of ``joined``) from their (block, active
    days) rows."""
    return weeks_bits(days_of_blocks(blocks, block_days), joined)


def block_rows(
    members: dict[tuple[str, int, str], dict[str, float]], block_days: int
) -> list[tuple[Any, ...]]:
    """The member-days as bits: (community, block, member, active days, posting days)."""
    bits: dict[tuple[str, int, str], list[int]] = {}
    for (cid, day, user), counts in members.items():
        block, bit = divmod(day, block_days)
        found = bits.setdefault((cid, block, user), [0, 0])
        found[0] |= 1 << bit
        if counts["messages"] > 0:
            found[1] |= 1 << bit
    return [(c, b, u, a, p) for (c, b, u), (a, p) in bits.items()]


def cursor_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per channel: the latest message of these rows, where catch-up resumes.

    Replies in Slack threads don't move it: conversations.history lists top-level messages only,
    so a cursor on a reply would read an empty page. A Discord thread is read as a channel of
    its own (its messages count in the parent): its cursor is the thread's.
    """
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for r in rows:
        if r["kind"] != "message":
            continue
        channel = r["channel_id"]
        thread = r["thread_id"]
        if thread is not None and thread != channel:
            if "." in r["message_id"]:  # a Slack reply
                continue
            channel = thread
        seq = sequence(r["message_id"])
        where = (r["community_id"], channel)
        if where not in latest or seq > latest[where][0]:
            latest[where] = (seq, r["message_id"])
    return [(c, ch, s, m) for (c, ch), (s, m) in latest.items()]
