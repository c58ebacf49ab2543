"""The gateway bridge: discord.py's client, whose gateway events become core events and whose
component presses and form submissions go to the adapter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.adapters.discord.convert import (
    channel_ref,
    community,
    message_ref,
    to_member,
    unscope_component_id,
)
from bot.adapters.discord.history import to_posted
from bot.adapters.discord.moderated import from_entry, timeout_changed, without_audit
from bot.adapters.discord.resume import (
    SessionKeeper,
    delivery,
    note_task,
    replay_joins,
    replayed,
)
from bot.core.events import (
    RECENT_JOINS,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    MessageDeleted,
    MessageEdited,
    PlatformReady,
    ReactionAdded,
    ReactionRemoved,
    ThreadOpened,
)
from bot.core.ids import UserRef
from bot.core.message import parse_component_id

RECENT = timedelta(days=1)
"""How far back a ``PlatformReady`` looks for joins Steward may have missed."""


def ready(guild: discord.Guild) -> PlatformReady:
    """The guild is ready, with the members who joined within ``RECENT`` (from discord.py's
    member cache, filled by the gateway's member chunks at connect): a new gateway session does
    not replay the joins sent while no Steward ran, so features catch up on them."""
    now = datetime.now(UTC)
    since = now - RECENT
    recent = [m for m in guild.members if not m.bot and m.joined_at and m.joined_at > since]
    recent.sort(key=lambda m: m.joined_at or now, reverse=True)
    where = community(guild.id)
    joined = tuple(
        MemberJoined(community=where, at=m.joined_at or now, member=to_member(m, guild.id))
        for m in recent[:RECENT_JOINS]
    )
    return PlatformReady(community=where, at=now, joined=joined)


class Bridge(Protocol):
    """What the client hands its events to (the :class:`DiscordAdapter`)."""

    async def sync_commands(self, bot: StewardBot) -> None:
        """Build the slash-command tree and sync it."""

    async def publish(self, event: Any) -> None:
        """Hand an inbound event to the dispatcher."""

    async def press(
        self,
        interaction: discord.Interaction[Any],
        parsed: tuple[str, str, str],
        data: dict[str, Any],
        *,
        scope: int | None = None,
    ) -> None:
        """Run a component or form handler."""


class StewardBot(discord.Client):
    """discord.py's client with an application-command tree, bridging gateway events to core
    events. A plain Client, not ``commands.Bot``: Steward has no prefix commands, and the Bot's
    extra dispatch layer ran for every gateway event."""

    IDENTIFY_WAIT = 5.0
    """Seconds between two IDENTIFYs of a shard (Discord allows one per 5 s; discord.py's own
    wait), divided by the platform speed like every other platform window."""

    def __init__(self, adapter: Bridge, *, speed: float = 1.0, **kwargs: Any) -> None:
        super().__init__(allowed_mentions=discord.AllowedMentions.none(), **kwargs)
        self.adapter = adapter
        self.identify_wait = self.IDENTIFY_WAIT / speed
        self.tree: app_commands.CommandTree[StewardBot] = Tree(self)
        self.keeper: SessionKeeper | None = None
        """Keeps the gateway session in the database and resumes it (``resume``)."""
        replay_joins(self._connection)

    async def setup_hook(self) -> None:
        """Build the slash-command tree from the registry and sync it; read the kept gateway
        sessions (the bot's id is known from here)."""
        await self.adapter.sync_commands(self)
        if self.keeper is not None and self.user is not None:
            await self.keeper.load(str(self.user.id), self.shard_count or 1)

    def _schedule_event(
        self, coro: Any, event_name: str, *args: Any, **kwargs: Any
    ) -> asyncio.Task[None]:
        """discord.py starts a task per handler of a dispatch: the dispatch is done (for the
        kept session's watermark) once they are."""
        task: asyncio.Task[None] = super()._schedule_event(coro, event_name, *args, **kwargs)
        note_task(task, event_name)
        return task

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait out Discord's identify limit before identifying again (not the first time)."""
        if not initial:
            await asyncio.sleep(self.identify_wait)

    # -- readiness ---------------------------------------------------------------------------

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """A guild is ready (at connect, or back after an outage): features may catch up."""
        await self.adapter.publish(ready(guild))

    async def on_resumed(self) -> None:
        """The gateway session resumed: events sent while disconnected may be missing. A new
        process that resumed a kept session is ready now (it got no READY)."""
        if not self.is_ready():
            self._handle_ready()
        for guild in self.guilds:
            await self.adapter.publish(ready(guild))

    # -- members -----------------------------------------------------------------------------

    async def on_member_join(self, member: discord.Member) -> None:
        """A member joined."""
        await self.adapter.publish(
            MemberJoined(
                community=community(member.guild.id),
                at=member.joined_at or datetime.now(UTC),
                member=to_member(member, member.guild.id),
            )
        )

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left or was removed."""
        where = community(payload.guild_id)
        await self.adapter.publish(
            MemberLeft(
                community=where,
                at=datetime.now(UTC),
                user=UserRef(where, str(payload.user.id)),
                delivery=delivery(),  # the payload has no time: a replay is told by this
            )
        )

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """A member's roles or name changed (or a timeout, when the audit log can't say)."""
        timed = timeout_changed(before, after)
        if timed is not None:
            await self.adapter.publish(timed)
        if before.roles == after.roles and before.display_name == after.display_name:
            return
        await self.adapter.publish(
            MemberUpdated(
                community=community(after.guild.id),
                at=datetime.now(UTC),
                member=to_member(after, after.guild.id),
            )
        )

    # -- moderation done in Discord's own client ---------------------------------------------

    async def on_audit_log_entry_create(self, entry: discord.AuditLogEntry) -> None:
        """A ban, unban, kick or timeout someone made (who and why; Steward's own skipped)."""
        event = from_entry(entry, self.user.id if self.user else None)
        if event is not None:
            await self.adapter.publish(event)

    async def on_member_ban(self, guild: discord.Guild, user: discord.abc.Snowflake) -> None:
        """A ban, used only when the audit log can't be read."""
        event = without_audit(guild, user, "ban")
        if event is not None:
            await self.adapter.publish(event)

    async def on_member_unban(self, guild: discord.Guild, user: discord.abc.Snowflake) -> None:
        """An unban, used only when the audit log can't be read."""
        event = without_audit(guild, user, "unban")
        if event is not None:
            await self.adapter.publish(event)

    # -- messages ----------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """A message was posted in a server channel or thread."""
        if message.guild is None or (self.user and message.author.id == self.user.id):
            return
        await self.adapter.publish(to_posted(message, message.guild.id))

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A message was edited."""
        if payload.guild_id is None or "content" not in payload.data:
            return
        author = payload.data.get("author", {}).get("id")
        where = community(payload.guild_id)
        await self.adapter.publish(
            MessageEdited(
                community=where,
                at=edited_at(payload.data),
                message=message_ref(payload.guild_id, payload.channel_id, payload.message_id),
                author=UserRef(where, str(author)) if author else None,
                text=str(payload.data.get("content", "")),
            )
        )

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """A message was deleted."""
        if payload.guild_id is None:
            return
        await self.adapter.publish(
            MessageDeleted(
                community=community(payload.guild_id),
                at=datetime.now(UTC),
                message=message_ref(payload.guild_id, payload.channel_id, payload.message_id),
            )
        )

    async def _reaction(self, payload: discord.RawReactionActionEvent, added: bool) -> None:
        if payload.guild_id is None or (self.user and payload.user_id == self.user.id):
            return
        where = community(payload.guild_id)
        now = datetime.now(UTC)
        message = message_ref(payload.guild_id, payload.channel_id, payload.message_id)
        user = UserRef(where, str(payload.user_id))
        emoji = str(payload.emoji)
        await self.adapter.publish(
            ReactionAdded(community=where, at=now, message=message, user=user, emoji=emoji)
            if added
            else ReactionRemoved(
                community=where,
                at=now,
                message=message,
                user=user,
                emoji=emoji,
                delivery=delivery(),  # no time in the payload (see on_raw_member_remove)
            )
        )

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """Someone reacted."""
        await self._reaction(payload, True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        """Someone took a reaction back."""
        await self._reaction(payload, False)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        """A thread was opened."""
        await self.adapter.publish(
            ThreadOpened(
                community=community(thread.guild.id),
                at=thread.created_at or datetime.now(UTC),
                thread=channel_ref(thread.guild.id, thread.id),
            )
        )

    # -- components and forms ----------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Button presses, select picks and form submissions with Steward's ids."""
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        if stale(interaction):
            return
        data: dict[str, Any] = dict(interaction.data or {})
        scope, custom_id = unscope_component_id(str(data.get("custom_id", "")))
        parsed = parse_component_id(custom_id)
        if parsed is None:
            return
        await self.adapter.press(interaction, parsed, data, scope=scope)


def edited_at(data: Any) -> datetime:
    """When a message was edited: its ``edited_timestamp`` (each edit's own, the same when a
    resumed session replays the MESSAGE_UPDATE), or now when Discord gave none."""
    stamp = data.get("edited_timestamp")
    if isinstance(stamp, str):
        try:
            found = datetime.fromisoformat(stamp)
        except ValueError:
            pass
        else:
            return found if found.tzinfo else found.replace(tzinfo=UTC)
    return datetime.now(UTC)


def stale(interaction: discord.Interaction[Any]) -> bool:
    """A replayed interaction (``resume``): the killed process answered it or its person saw it
    fail; it is not run again."""
    del interaction
    return replayed()


class Tree(app_commands.CommandTree["StewardBot"]):
    """The command tree, which skips a replayed command (see :func:`stale`)."""

    async def interaction_check(self, interaction: discord.Interaction[StewardBot], /) -> bool:
        """Run the command unless it is a replay."""
        return not stale(interaction)


class StewardShardedBot(StewardBot, discord.AutoShardedClient):
    """The same bridge on discord.py's auto-sharded client, for very large bots."""
