"""Which announcements started conversations: the counts engagement tells, stored and ranked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import CommunityRef, plural
from bot.core.markup import escape_markup
from bot.core.templates import neutralize_pings
from cogs.announcements._models import AnnouncementFeed, AnnouncementLog
from cogs.announcements.events import AnnouncementEngagement

SHOWN = 5


async def note(
    session: AsyncSession, community: CommunityRef, told: AnnouncementEngagement
) -> None:
    """Store the counts engagement told about one of the community's posts."""
    feeds = select(AnnouncementFeed.id).where(AnnouncementFeed.community_id == community.key)
    after = told.first_reply_after
    await session.execute(
        update(AnnouncementLog)
        .where(AnnouncementLog.message_id == told.message_id, AnnouncementLog.feed_id.in_(feeds))
        .values(
            replies=told.replies,
            members=told.members,
            reactions=told.reactions,
            first_reply_s=None if after is None else int(after.total_seconds()),
            questions=told.questions,
            answered=told.answered,
        )
    )


@dataclass(frozen=True, slots=True)
class Posted:
    """One post and its conversation."""

    title: str
    source: str
    replies: int
    members: int
    reactions: int
    first_reply_s: int | None
    questions: int
    answered: int


async def posted_since(
    session: AsyncSession, community: CommunityRef, since: datetime
) -> list[Posted]:
    """The community's posts since a time, with their counts."""
    rows = await session.execute(
        select(AnnouncementLog, AnnouncementFeed.title, AnnouncementFeed.url)
        .join(AnnouncementFeed, AnnouncementFeed.id == AnnouncementLog.feed_id)
        .where(
            AnnouncementFeed.community_id == community.key,
            AnnouncementLog.outcome == "posted",
            AnnouncementLog.message_id.is_not(None),
            AnnouncementLog.at >= since,
        )
    )
    return [
        Posted(
            log.title or "(untitled)",
            title or url,
            log.replies or 0,
            log.members or 0,
            log.reactions or 0,
            log.first_reply_s,
            log.questions or 0,
            log.answered or 0,
        )
        for log, title, url in rows.all()
    ]


def _after(seconds: int) -> str:
    if seconds < 3600:
        return plural(max(seconds // 60, 1), "minute")
    if seconds < 86400:
        return plural(seconds // 3600, "hour")
    return plural(seconds // 86400, "day")


def _line(post: Posted) -> str:
    parts = [f"{plural(post.replies, 'reply', 'replies')} from {plural(post.members, 'member')}"]
    parts.append(plural(post.reactions, "reaction"))
    if post.first_reply_s is not None:
        parts.append(f"first reply after {_after(post.first_reply_s)}")
    if post.questions:
        parts.append(f"{plural(post.questions, 'question')} ({post.answered} answered)")
    return ", ".join(parts)


def rank(posts: Sequence[Posted]) -> list[Posted]:
    """Posts by the conversation they started: members, then replies, then reactions."""
    return sorted(posts, key=lambda p: (-p.members, -p.replies, -p.reactions, p.title))


def stats_text(posts: Sequence[Posted], span: str) -> str:
    """``/announcements stats``: the posts and sources that started the most conversation."""
    if not posts:
        return f"No announcements were posted in the last {span}."
    lines = [f"Announcements in the last {span}: {plural(len(posts), 'post')}."]
    lines.append("Most discussed:")
    for number, post in enumerate(rank(posts)[:SHOWN], 1):
        title, source = escape_markup(post.title), escape_markup(post.source)
        lines.append(f"{number}. “{title}” ({source}): {_line(post)}")
    sources: dict[str, list[Posted]] = {}
    for post in posts:
        sources.setdefault(post.source, []).append(post)
    ranked = sorted(
        sources.items(), key=lambda s: (-sum(p.replies for p in s[1]), -len(s[1]), s[0])
    )
    lines.append("Sources:")
    for source, group in ranked[:SHOWN]:
        replies = sum(p.replies for p in group)
        lines.append(
            f"• {escape_markup(source)}: {plural(len(group), 'post')}, "
            f"{plural(replies, 'reply', 'replies')}"
        )
    return neutralize_pings("\n".join(lines))
