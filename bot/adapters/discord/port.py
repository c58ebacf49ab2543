"""DiscordPort: every Port call through discord.py, with nobody pinged unless allowed."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import discord

from bot.adapters.discord import forums, history
from bot.adapters.discord.convert import channel_ref, message_ref, to_member
from bot.adapters.discord.recent import Recent
from bot.adapters.discord.render import render
from bot.core.errors import NotFound, NotSupported, Unavailable, UserError
from bot.core.events import MessagePosted, ReactionAdded
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform, RoleRef, UserRef
from bot.core.members import Member
from bot.core.message import Form, Message
from bot.core.port import Capability, Forum

T = TypeVar("T")
MAX_TIMEOUT = timedelta(days=28)
BULK_DELETE_AGE = timedelta(days=14)


class MissingPermission(UserError):
    """Discord refused because Steward lacks a permission or the target ranks above it."""


async def _call(action: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except discord.Forbidden as exc:
        raise MissingPermission(
            f"Discord didn't let me {action}: I'm missing a permission, or the member's top "
            "role is above mine. Check my role's permissions and position."
        ) from exc
    except discord.NotFound as exc:
        raise NotFound(f"I couldn't {action}: it no longer exists.") from exc
    except discord.DiscordServerError as exc:
        raise Unavailable(f"Discord answered {exc.status} when I tried to {action}") from exc


THREAD_EXISTS, ALREADY_CROSSPOSTED, NOT_THIS_CHANNEL_TYPE = 160004, 40033, 50024
"""Discord's codes for "A thread has already been created for this message", "This message has
already been crossposted" and "Cannot execute action on this channel type"."""


def _nonce(key: str | None) -> dict[str, Any]:
    """discord.py's ``nonce`` for an idempotency key (it sends ``enforce_nonce`` with it).

    Discord keeps a nonce for a few minutes: the same nonce from Steward again answers with the
    message already created. At most 25 characters, so the key is hashed to a decimal.
    """
    if key is None:
        return {}
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return {"nonce": str(int.from_bytes(digest, "big") >> 1)}


def _editable(rendered: dict[str, Any]) -> dict[str, Any]:
    """``send`` arguments as ``PartialMessage.edit`` takes them: what the new version lacks
    (content, an embed, components) is cleared; files stay as they were."""
    out = {k: v for k, v in rendered.items() if k not in ("files", "suppress_embeds")}
    out.setdefault("content", None)
    out.setdefault("embed", None)
    out.setdefault("view", None)
    return out


class DiscordPort:
    """The Port for Discord; one per process, serving every guild."""

    platform: Platform = "discord"
    # Components in DMs carry their guild in the custom_id (see convert.scope_component_id).
    capabilities = frozenset(Capability) - {Capability.CHANNEL_INVITE}

    def __init__(
        self, client: discord.Client, feature: str = "steward", recent: Recent | None = None
    ) -> None:
        self.client = client
        self.feature = feature
        self.recent = recent or Recent(client)

    def for_feature(self, feature: str) -> DiscordPort:
        """The same port, rendering component ids for ``feature``."""
        return DiscordPort(self.client, feature, self.recent)

    def _messageable(self, channel: ChannelRef) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            int(channel.id), guild_id=int(channel.community.id)
        )

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        """Post in a channel or thread; with a key, once (Discord's nonce, enforced, and for a
        ``resend`` a look at what Steward posted there since the delivery was queued).

        In a forum a message with a ``post_name`` opens a post (its thread) instead."""
        found = self.client.get_channel(int(channel.id))
        if isinstance(found, discord.ForumChannel) and message.post_name:
            me = self.client.user.id if self.client.user else 0
            post = forums.earlier_post(found, message.post_name, me) if resend else None
            if post is None:
                rendered = render(self.feature, message)
                opening = forums.open_post(found, rendered, message.post_name, message.post_tags)
                post = await _call("open a post there", opening)
            return message_ref(int(channel.community.id), post.id, post.id)
        rendered = render(self.feature, message)
        target = self._messageable(channel)
        if key is not None and resend is not None:
            earlier = await self.recent.find(target, rendered, resend)
            if earlier is not None:
                return message_ref(int(channel.community.id), int(channel.id), earlier)
        sent = await _call("post there", target.send(**(rendered | _nonce(key))))
        return message_ref(int(channel.community.id), sent.channel.id, sent.id)

    async def reply(self, to: MessageRef, message: Message) -> MessageRef:
        """Reply to a message, without pinging its author."""
        partial = self._messageable(to.channel).get_partial_message(int(to.id))
        sent = await _call("reply there", partial.reply(**render(self.feature, message)))
        return message_ref(int(to.channel.community.id), sent.channel.id, sent.id)

    async def dm(
        self,
        user: UserRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef | None:
        """Send a DM; None when the member doesn't accept DMs from the server.

        Its buttons and selects name the community, so presses in the DM find their way back."""
        try:
            channel = await self.client.create_dm(discord.Object(int(user.id)))
            rendered = render(self.feature, message, scope=int(user.community.id))
            if key is not None and resend is not None:
                found = await self.recent.find(channel, rendered, resend)
                if found is not None:
                    return MessageRef(ChannelRef(user.community, str(channel.id)), str(found))
            sent = await channel.send(**(rendered | _nonce(key)))
        except discord.Forbidden:
            return None
        except discord.DiscordServerError as exc:
            raise Unavailable(f"Discord answered {exc.status}") from exc
        dm_channel = ChannelRef(user.community, str(sent.channel.id))
        return MessageRef(dm_channel, str(sent.id))

    async def edit(self, message: MessageRef, new: Message) -> None:
        """Change a post of Steward's (its text, embed and components; files stay)."""
        rendered = render(self.feature, new)
        partial = self._messageable(message.channel).get_partial_message(int(message.id))
        await _call("edit that post", partial.edit(**_editable(rendered)))

    async def open_thread(self, on: MessageRef, name: str) -> ChannelRef:
        """Open a thread on a message; the thread is a channel of its own."""
        partial = self._messageable(on.channel).get_partial_message(int(on.id))
        try:
            thread = await _call("open a thread", partial.create_thread(name=name[:100]))
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise
            # Opened by an earlier try whose answer was lost: a message's thread has its id.
            return channel_ref(int(on.channel.community.id), int(on.id))
        return channel_ref(int(on.channel.community.id), thread.id)

    async def open_group(
        self, users: Sequence[UserRef], *, name: str, parent: ChannelRef | None
    ) -> ChannelRef:
        """A private thread in ``parent`` (members cannot invite others), the members added.

        Bots cannot open group DMs on Discord. Adding a member needs no ping in the thread."""
        if parent is None:
            raise UserError("Discord needs a channel to hold a group's private thread.")
        http = self.client.http
        data = await _call(
            "open a private thread there",
            http.start_thread_without_message(
                int(parent.id),
                name=name[:100],
                auto_archive_duration=10080,
                type=discord.ChannelType.private_thread.value,
                invitable=False,
                reason="Introductions: a group's conversation",
            ),
        )
        thread_id = int(data["id"])
        for user in users:
            await _call(
                "add members to that thread", http.add_user_to_thread(thread_id, int(user.id))
            )
        return channel_ref(int(parent.community.id), thread_id)

    async def crosspost(self, message: MessageRef) -> None:
        """Publish a post of an announcement channel to its followers (once)."""
        partial = self._messageable(message.channel).get_partial_message(int(message.id))
        try:
            await _call("publish that post", partial.publish())
        except discord.HTTPException as exc:
            if exc.code == NOT_THIS_CHANNEL_TYPE:
                raise UserError(
                    "Discord publishes only from announcement channels; make the channel one, "
                    "or stop publishing there."
                ) from exc
            if exc.code != ALREADY_CROSSPOSTED:
                raise

    async def forum(self, channel: ChannelRef) -> Forum | None:
        """A forum or media channel's tags and rules, from discord.py's cache."""
        return forums.forum_of(self.client.get_channel(int(channel.id)))

    async def add_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Give a member a role."""
        await _call(
            "give that role",
            self.client.http.add_role(
                int(user.community.id), int(user.id), int(role.id), reason=reason[:512]
            ),
        )

    async def remove_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Take a role away."""
        await _call(
            "remove that role",
            self.client.http.remove_role(
                int(user.community.id), int(user.id), int(role.id), reason=reason[:512]
            ),
        )

    async def timeout(self, user: UserRef, until: datetime | None, *, reason: str) -> None:
        """Time a member out (at most 28 days, Discord's limit); None lifts it."""
        value: str | None = None
        if until is not None:
            until = min(until, datetime.now(UTC) + MAX_TIMEOUT)
            value = until.isoformat()
        await _call(
            "time that member out",
            self.client.http.edit_member(
                int(user.community.id),
                int(user.id),
                reason=reason[:512],
                communication_disabled_until=value,
            ),
        )

    async def kick(self, user: UserRef, *, reason: str) -> None:
        """Remove a member from the server."""
        await _call(
            "kick that member",
            self.client.http.kick(int(user.id), int(user.community.id), reason=reason[:512]),
        )

    async def ban(self, user: UserRef, *, reason: str) -> None:
        """Ban a member."""
        await _call(
            "ban that member",
            self.client.http.ban(int(user.id), int(user.community.id), 0, reason=reason[:512]),
        )

    async def unban(self, user: UserRef, *, reason: str) -> None:
        """Lift a ban."""
        # Discord's API description requires a JSON body on this DELETE (discord.py's own
        # ``unban`` sends none), so the route is called with an empty object.
        route = discord.http.Route(
            "DELETE",
            "/guilds/{guild_id}/bans/{user_id}",
            guild_id=int(user.community.id),
            user_id=int(user.id),
        )
        await _call("lift that ban", self.client.http.request(route, json={}, reason=reason[:512]))

    async def delete_message(self, message: MessageRef, *, reason: str) -> None:
        """Delete a message."""
        await _call(
            "delete that message",
            self.client.http.delete_message(
                int(message.channel.id), int(message.id), reason=reason[:512]
            ),
        )

    async def purge(self, channel: ChannelRef, user: UserRef, count: int, *, reason: str) -> int:
        """Delete a member's latest messages in a channel (one bulk delete for several)."""
        recent = await _call("read that channel", self.client.http.logs_from(int(channel.id), 100))
        # Discord bulk-deletes only messages under two weeks old; a minute's margin for clocks.
        oldest = datetime.now(UTC) - BULK_DELETE_AGE + timedelta(minutes=1)
        ids: list[str | int] = []
        for m in recent:
            at = discord.utils.snowflake_time(int(m["id"]))
            if m["author"]["id"] == user.id and at > oldest and len(ids) < count:
                ids.append(int(m["id"]))
        if len(ids) == 1:
            await _call(
                "delete that message",
                self.client.http.delete_message(int(channel.id), ids[0], reason=reason[:512]),
            )
        elif ids:
            await _call(
                "delete those messages",
                self.client.http.delete_messages(int(channel.id), ids, reason=reason[:512]),
            )
        return len(ids)

    async def fetch_member(self, user: UserRef) -> Member | None:
        """A member's current snapshot, or None when they are not in the server."""
        guild_id = int(user.community.id)
        guild = self.client.get_guild(guild_id)
        if guild is None:
            return None
        found = guild.get_member(int(user.id))
        if found is None:
            try:
                found = await guild.fetch_member(int(user.id))
            except discord.NotFound:
                return None
        return to_member(found, guild_id)

    async def myself(self, community: CommunityRef) -> Member | None:
        """Steward's own member in a guild (its roles as the gateway last told them)."""
        guild = self.client.get_guild(int(community.id))
        if guild is None:
            return None
        return to_member(guild.me, guild.id)

    async def open_form(self, token: str, form: Form) -> None:
        """Forms open through the interaction's responder on Discord."""
        raise NotSupported("forms outside an interaction", self.platform)

    async def channels(self, community: CommunityRef) -> list[ChannelRef]:
        """Text channels and active threads Steward can read the history of."""
        return history.readable_channels(self.client, community)

    async def channel_names(self, community: CommunityRef) -> dict[str, str]:
        """Names of the guild's text channels and threads, from discord.py's cache."""
        return history.channel_names(self.client, community)

    async def history(
        self, channel: ChannelRef, after: str | None, limit: int
    ) -> list[MessagePosted | ReactionAdded]:
        """Messages after a message id, oldest first, with their reactions (channel.history)."""
        return await history.fetch_history(self.client, channel, after, limit)

    async def add_to_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> None:
        """Discord has no channel invitations for members; grant a role that opens it instead."""
        raise NotSupported(Capability.CHANNEL_INVITE, self.platform)

    async def remove_from_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> bool:
        """Discord keeps channels by role: a kick or ban removes the member everywhere."""
        raise NotSupported("removing a member from one channel", self.platform)

    async def count_members(self, community: CommunityRef) -> int | None:
        """People in the guild, bots left out (as on Slack), from the gateway's count."""
        guild = self.client.get_guild(int(community.id))
        if guild is None or guild.member_count is None:
            return None
        return guild.member_count - sum(1 for m in guild.members if m.bot)

    async def channel_members(self, channel: ChannelRef) -> list[UserRef]:
        """The guild's members (no bots) who can view the channel, from discord.py's cache."""
        guild = self.client.get_guild(int(channel.community.id))
        found = guild.get_channel_or_thread(int(channel.id)) if guild is not None else None
        if guild is None or not isinstance(found, discord.abc.GuildChannel):
            raise NotFound("I couldn't find that channel: it may have been deleted.")
        viewers = [m for m in guild.members if not m.bot and found.permissions_for(m).view_channel]
        return [UserRef(channel.community, str(m.id)) for m in viewers]
