"""Posting a feed's items through the outbox, and writing back in the log what became of them."""

from __future__ import annotations

from bot.core import ChannelRef, Context, FeatureSettings, Message
from bot.core.templates import neutralize_pings
from cogs.announcements._models import AnnouncementFeed, AnnouncementLog
from cogs.announcements._repo import Repo

WAITING = ("pending", "edited")
"""Log outcomes of items handed to the outbox whose fate the log does not know yet."""
TITLE_CHARS = 300
LINK_CHARS = 1500
"""Longer links are left out: cut short they would lead nowhere, whole they break Discord's 2000."""


def delivery_key(entry: AnnouncementLog) -> str:
    """The outbox key of a log row: one post per item, one more per edit the log recorded."""
    base = f"ann:{entry.feed_id}:{entry.item_key}"
    return base if entry.outcome == "pending" else f"{base}:edit:{entry.id}"


def post_message(entry: AnnouncementLog) -> Message:
    """One plain post per item: its title and its link; the publisher's text pings nobody."""
    title = entry.title.strip()[:TITLE_CHARS] or "New post"
    if entry.outcome == "edited":
        title = f"Updated: {title}"
    link = entry.link if entry.link and len(entry.link) <= LINK_CHARS else None
    lines = [title] + ([link] if link else [])
    return Message(text=neutralize_pings("\n".join(lines)))


async def hand_over(
    ctx: Context[FeatureSettings], feed: AnnouncementFeed, entries: list[AnnouncementLog]
) -> None:
    """Queue a post per new or edited item, in the caller's transaction (sent once it commits)."""
    channel = ChannelRef(ctx.community, feed.channel_id)
    for entry in entries:
        await ctx.deliver(channel, post_message(entry), key=delivery_key(entry))


async def record_outcomes(ctx: Context[FeatureSettings]) -> int:
    """Mark waiting log rows posted or failed from their deliveries; returns how many changed."""
    waiting = await Repo(ctx.uow.session, ctx.community).waiting(WAITING)
    if not waiting:
        return 0
    keys = [delivery_key(entry) for entry in waiting]
    # Asking the outbox may read in a transaction of its own: hold no lock of ours meanwhile.
    await ctx.commit()
    fates = [await ctx.delivery(key) for key in keys]
    changed = 0
    for entry, done in zip(waiting, fates, strict=True):
        if done is not None and done.status == "pending":
            continue  # the outbox tries again later; so does this
        edited = entry.outcome == "edited"
        if done is None:
            # Logged before Steward posted items (or its delivery was lost): never posted now.
            entry.outcome, entry.reason = "skipped", "logged before posting was switched on"
        elif done.status == "sent":
            entry.outcome, entry.reason = "posted", "edited" if edited else None
        else:
            entry.outcome, entry.reason = "failed", (done.reason or "the platform refused")[:200]
        changed += 1
    return changed
