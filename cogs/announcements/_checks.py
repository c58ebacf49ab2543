"""Checks every announcements command shares: the channel, the source, the limit."""

from __future__ import annotations

from bot.core import ChannelRef, CommandContext, FeatureSettings, UserError
from bot.core.parsing import digits_value
from cogs.announcements import _texts as texts
from cogs.announcements._models import AnnouncementFeed
from cogs.announcements._repo import Repo

MAX_FEEDS = 100
"""Feeds and webhooks together, per community."""

Ctx = CommandContext[FeatureSettings]


async def can_post(ctx: Ctx, channel: ChannelRef) -> None:
    """Refuse a thread, or a channel Steward cannot see (a forum is fine: each item is a post)."""
    if channel.thread is not None:
        raise UserError("Pick a channel, not a thread: each item will open its own discussion.")
    visible = {c.id for c in await ctx.port.channels(ctx.community) if c.thread is None}
    if channel.id not in visible and await ctx.port.forum(channel) is None:
        raise UserError("I can't post in that channel: add me to it (or give me access) first.")


async def find_source(repo: Repo, feed: str) -> AnnouncementFeed:
    """A feed or webhook of the community by number or address, else a friendly refusal."""
    wanted = feed.strip()
    number = digits_value(wanted, most=11)
    row = await repo.feed(number) if number is not None else None
    row = row or await repo.by_url(texts.clean_url(wanted))
    if row is None:
        raise UserError(f"I don't follow a feed {wanted[:200]!r}: see `/announcements list`.")
    return row
