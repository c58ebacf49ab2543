"""The conversations announcements start: counted from the stored events, told to the relay.

The relay says which messages are announcements (``AnnouncementPosted``); this counts, per post,
the replies in its discussion, the distinct members who took part, reactions, the time to the
first member reply and the questions asked there and answered, and publishes the counts when
they change (``AnnouncementEngagement``). Nothing of the relay is imported but its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Context, plural
from bot.core.markup import escape_markup
from bot.core.templates import neutralize_pings
from bot.db.inserts import insert_ignore
from cogs.announcements.events import AnnouncementEngagement, AnnouncementPosted
from cogs.engagement._keys import message_key
from cogs.engagement._models import EngagementAnnouncement, EngagementEvent, EngagementQuestion
from cogs.engagement.settings import EngagementSettings

FOLLOWED_FOR = timedelta(days=30)
"""How long after it was posted an announcement's conversation is still counted."""


async def remember(session: AsyncSession, event: AnnouncementPosted) -> None:
    """Note that a message is an announcement (once, whatever the repeats)."""
    await insert_ignore(
        session,
        EngagementAnnouncement,
        {
            "community_id": event.community.key,
            "key": message_key(event.message),
            "message_id": event.message.id,
            "channel_id": event.message.channel.id,
            "posted_at": event.at,
            "title": event.title[:256],
            "told": "",
        },
    )


@dataclass
class Tally:
    """One announcement's conversation so far."""

    replies: int = 0
    members: int = 0
    reactions: int = 0
    first: datetime | None = None
    questions: int = 0
    answered: int = 0


async def _counts(
    session: AsyncSession, community: str, keys: Sequence[str]
) -> dict[str | None, Tally]:
    found: dict[str | None, Tally] = {k: Tally() for k in keys}
    events = EngagementEvent
    mine = and_(events.community_id == community, events.target_key.in_(keys))
    replies = await session.execute(
        select(
            events.target_key,
            func.count(),
            func.count(func.distinct(events.user_id)),
            func.min(events.at),
        )
        .where(mine, events.kind == "message")
        .group_by(events.target_key)
    )
    for key, count, members, first in replies.all():
        found[key].replies, found[key].members, found[key].first = count, members, first
    # A reaction taken back has its row deleted (``_store._withdraw``): the rows left are the
    # reactions that stand. Subtracting the takings back as well counted each one twice, and
    # one taken back of a reaction given before Steward counted took another's off.
    reactions = await session.execute(
        select(events.target_key, func.count())
        .where(mine, events.kind == "reaction")
        .group_by(events.target_key)
    )
    for key, count in reactions.all():
        found[key].reactions = count
    asked = (
        select(events.target_key, events.key)
        .where(mine, events.kind == "message", events.is_question.is_(True))
        .subquery()
    )
    questions = await session.execute(
        select(asked.c.target_key, func.count(), func.count(EngagementQuestion.answered_at))
        .join(
            EngagementQuestion,
            and_(
                EngagementQuestion.community_id == community,
                EngagementQuestion.key == asked.c.key,
            ),
        )
        .group_by(asked.c.target_key)
    )
    for key, count, answered in questions.all():
        found[key].questions, found[key].answered = count, answered
    return found


async def tell(ctx: Context[EngagementSettings]) -> int:
    """Publish the counts of the community's recent announcements that changed; how many."""
    session, community = ctx.uow.session, ctx.community
    since = ctx.clock.now() - FOLLOWED_FOR
    rows = list(
        await session.scalars(
            select(EngagementAnnouncement).where(
                EngagementAnnouncement.community_id == community.key,
                EngagementAnnouncement.posted_at >= since,
            )
        )
    )
    if not rows:
        return 0
    counts = await _counts(session, community.key, [r.key for r in rows])
    told = 0
    for row in rows:
        tally = counts[row.key]
        seconds = None
        if tally.first is not None:
            seconds = max(int((tally.first - row.posted_at).total_seconds()), 0)
        summary = (
            f"{tally.replies}:{tally.members}:{tally.reactions}:{seconds}:"
            f"{tally.questions}:{tally.answered}"
        )
        if summary == row.told:
            continue
        row.told = summary
        ctx.publish(
            AnnouncementEngagement(
                community=community,
                at=ctx.clock.now(),
                message_id=row.message_id,
                channel_id=row.channel_id,
                replies=tally.replies,
                members=tally.members,
                reactions=max(tally.reactions, 0),
                first_reply_after=None if seconds is None else timedelta(seconds=seconds),
                questions=tally.questions,
                answered=tally.answered,
            )
        )
        told += 1
    return told


async def digest_line(
    session: AsyncSession, community: str, since: datetime, until: datetime
) -> str | None:
    """The weekly digest's line on announcements (None when none was posted)."""
    rows = list(
        await session.scalars(
            select(EngagementAnnouncement).where(
                EngagementAnnouncement.community_id == community,
                EngagementAnnouncement.posted_at >= since,
                EngagementAnnouncement.posted_at < until,
            )
        )
    )
    if not rows:
        return None
    counts = await _counts(session, community, [r.key for r in rows])
    replies = sum(counts[r.key].replies for r in rows)
    best = max(rows, key=lambda r: (counts[r.key].members, counts[r.key].replies, r.key))
    line = (
        f"{plural(len(rows), 'post')}, {plural(replies, 'reply', 'replies')} in their discussions"
    )
    if counts[best.key].replies:
        title = escape_markup(best.title)  # a feed's text: shown as typed, formatting nothing
        line += f"; most discussed: “{title}” ({plural(counts[best.key].members, 'member')})"
    return neutralize_pings(line)
