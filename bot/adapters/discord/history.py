"""Channel history for catch-up: discord.py's ``channel.history`` as core MessagePosted events."""

from __future__ import annotations

import logging

import discord

from bot.adapters.discord.convert import channel_ref, community, message_ref, to_member
from bot.core.events import MessagePosted, ReactionAdded
from bot.core.ids import ChannelRef, CommunityRef, UserRef

log = logging.getLogger("steward.discord")
_SKIPPED_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def to_posted(message: discord.Message, guild_id: int) -> MessagePosted:
    """A history message as the same event the gateway's MESSAGE_CREATE becomes."""
    reply_to = reply_author = None
    ref = message.reference
    if ref is not None and ref.message_id is not None and ref.channel_id is not None:
        reply_to = message_ref(guild_id, ref.channel_id, ref.message_id)
        if isinstance(ref.resolved, discord.Message):  # None or deleted: not known
            reply_author = UserRef(community(guild_id), str(ref.resolved.author.id))
    return MessagePosted(
        community=community(guild_id),
        at=message.created_at,
        message=message_ref(guild_id, message.channel.id, message.id),
        author=to_member(message.author, guild_id),
        text=message.content,
        in_thread=isinstance(message.channel, discord.Thread),
        reply_to=reply_to,
        reply_author=reply_author,
        attachments=len(message.attachments),
        parent_channel=_parent_of(message.channel),
        mentions=frozenset(UserRef(community(guild_id), str(u.id)) for u in message.mentions),
    )


def _parent_of(channel: object) -> str | None:
    """The id of the channel a thread belongs to (None outside threads)."""
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return str(channel.parent_id)
    return None


def readable_channels(client: discord.Client, where: CommunityRef) -> list[ChannelRef]:
    """The guild's text channels and active threads, from discord.py's cache."""
    guild = client.get_guild(int(where.id))
    if guild is None:
        return []
    found: list[discord.abc.GuildChannel | discord.Thread] = [*guild.text_channels, *guild.threads]
    me = guild.me
    readable = [c for c in found if me is None or c.permissions_for(me).read_message_history]
    return [channel_ref(guild.id, c.id) for c in readable]


def channel_names(client: discord.Client, where: CommunityRef) -> dict[str, str]:
    """Channel id -> name for the guild's text channels and threads (discord.py's cache)."""
    guild = client.get_guild(int(where.id))
    if guild is None:
        return {}
    names = {str(c.id): c.name for c in guild.text_channels}
    names.update((str(t.id), t.name) for t in guild.threads)
    return names


async def reactions_of(
    client: discord.Client, message: discord.Message, posted: MessagePosted
) -> list[ReactionAdded]:
    """Who reacted to a message and with what, Steward itself aside (one request per emoji and
    hundred people). Discord doesn't say when: they count at the message's time."""
    found: list[ReactionAdded] = []
    me = client.user.id if client.user else None
    for reaction in message.reactions:
        emoji = str(reaction.emoji)
        try:
            async for user in reaction.users(limit=None):
                if user.id == me:
                    continue
                found.append(
                    ReactionAdded(
                        community=posted.community,
                        at=posted.at,
                        message=posted.message,
                        user=UserRef(posted.community, str(user.id)),
                        emoji=emoji,
                    )
                )
        except discord.HTTPException as exc:  # deleted meanwhile, or no longer readable
            log.warning("reactions of message %s not read back: %s", message.id, exc.status)
    return found


async def fetch_history(
    client: discord.Client, channel: ChannelRef, after: str | None, limit: int
) -> list[MessagePosted | ReactionAdded]:
    """Messages after ``after`` (a message id), oldest first, each followed by its reactions;
    bots' own messages included."""
    guild_id = int(channel.community.id)
    messageable = client.get_channel(int(channel.id)) or client.get_partial_messageable(
        int(channel.id), guild_id=guild_id
    )
    if not isinstance(messageable, discord.abc.Messageable):
        return []
    marker = discord.Object(int(after)) if after else None
    found: list[MessagePosted | ReactionAdded] = []
    async for message in messageable.history(limit=limit, after=marker, oldest_first=True):
        if message.type in _SKIPPED_TYPES:
            posted = to_posted(message, guild_id)
            found.append(posted)
            if message.reactions:
                found.extend(await reactions_of(client, message, posted))
    return found
