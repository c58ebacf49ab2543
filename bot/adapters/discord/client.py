"""The Discord adapter: a discord.py bot whose events and interactions reach the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.adapters.discord.commands import build_groups, build_message_menus
from bot.adapters.discord.convert import (
    channel_ref,
    community,
    form_fields,
    message_ref,
    picked,
    to_member,
)
from bot.adapters.discord.endpoints import configure_endpoints
from bot.adapters.discord.gateway import StewardBot, StewardShardedBot
from bot.adapters.discord.intents import intents_for
from bot.adapters.discord.port import DiscordPort
from bot.adapters.discord.responder import DEFER_AFTER, InteractionResponder
from bot.adapters.discord.resume import SessionKeeper
from bot.config import Config, PlatformProblem
from bot.core.commands import AttachedFile, CommandSpec, ParamKind
from bot.core.dispatch import Dispatcher, Invocation, Press
from bot.core.errors import UserError, render_error
from bot.core.ids import RoleRef, UserRef
from bot.core.members import Member
from bot.core.pacing import Limits, Window
from bot.core.parsing import parse_duration
from bot.core.registry import Registry
from bot.core.transient import log_failure

__all__ = ["DiscordAdapter", "StewardBot", "StewardShardedBot", "global_pacing"]

log = logging.getLogger("steward.discord")

HEARTBEAT_TIMEOUT = 60.0
"""Seconds without a frame from the gateway (not even a heartbeat ACK: a zombie connection)
before discord.py closes it and resumes; Discord's own heartbeat interval is 41.25 s. Divided
by the platform speed, as the fake divides its heartbeat interval, but never under
``MIN_HEARTBEAT_TIMEOUT``: discord.py also waits that long for any frame, and a test machine's
busy second must not pass for a dead connection."""
MIN_HEARTBEAT_TIMEOUT = 5.0

# Steward never joins voice: discord.py's start-up warnings about voice libraries are noise.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def global_pacing(limits: Limits) -> aiohttp.TraceConfig:
    """An aiohttp trace that holds each bot-authenticated REST request until it fits in
    Discord's global window; interaction answers and webhook tokens are outside that limit."""
    window = Window(*limits.discord_global)
    trace = aiohttp.TraceConfig()

    def _paced(url: Any) -> bool:
        path = str(url.path)
        return "/api/" in path and "/interactions/" not in path and "/webhooks/" not in path

    async def start(_s: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        ctx.paced = _paced(params.url)
        if ctx.paced:
            await window.acquire()

    async def end(_s: Any, ctx: Any, _params: Any) -> None:
        if getattr(ctx, "paced", False):
            ctx.paced = False
            window.release()

    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    trace.on_request_exception.append(end)
    return trace


class DiscordAdapter:
    """Owns the discord.py bot and the DiscordPort; started and stopped by the App."""

    def __init__(
        self,
        config: Config,
        dispatcher: Dispatcher,
        registry: Registry,
        *,
        guild_ready_timeout: float = 2.0,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        """Build the bot; ``defer_after`` is how long an interaction may go unanswered."""
        assert config.discord_token is not None
        if not 0 < defer_after < 3:
            raise ValueError("defer_after must be between 0 and 3 seconds (Discord's deadline)")
        self.defer_after = defer_after
        configure_endpoints(config.discord_api_base, config.discord_gateway_url)
        self.config = config
        self.dispatcher = dispatcher
        self.registry = registry
        options: dict[str, Any] = {
            "intents": intents_for(registry),
            "guild_ready_timeout": guild_ready_timeout,
            # Steward reads edits, deletions and reactions from the raw events, never from
            # discord.py's message cache: without it each reaction, edit or deletion of a
            # message older than the last 1,000 no longer scans all 1,000, and the ~1.8 MB the
            # cache holds is saved.
            "max_messages": None,
            # discord.py waits out each route's bucket from Discord's headers, but nothing keeps
            # it under the global 50 requests a second: this does (interaction answers excepted).
            # Split between processes by shards (see Config.discord_budget_share).
            "http_trace": global_pacing(
                Limits(config.platform_speed, discord_share=config.discord_budget_share)
            ),
            "heartbeat_timeout": max(
                HEARTBEAT_TIMEOUT / config.platform_speed,
                min(HEARTBEAT_TIMEOUT, MIN_HEARTBEAT_TIMEOUT),
            ),
            "speed": config.platform_speed,
        }
        shards = config.discord_shards
        if shards is not None:
            options["shard_count"], options["shard_ids"] = shards
        bot_cls = StewardShardedBot if config.discord_sharded or shards else StewardBot
        self.bot: StewardBot = bot_cls(self, **options)
        self.keeper = SessionKeeper(dispatcher.db.uow, dispatcher.clock, self._written)
        """The gateway sessions kept across restarts (``bot.adapters.discord.resume``)."""
        self.bot.keeper = self.keeper
        self.port = DiscordPort(self.bot)
        dispatcher.add_port(self.port)
        self.tree_error_count = 0
        self.problem: str | None = None
        """Why Discord is down for good (a refusal after startup), for /healthz; None if not."""
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._closing: asyncio.Task[None] | None = None

    async def sync_commands(self, bot: StewardBot) -> None:
        """Register the generated groups and sync them (to the dev guild when configured)."""
        tree = bot.tree
        tree.on_error = self._tree_error  # type: ignore[method-assign]
        for group in build_groups(self.registry, self.command):
            tree.add_command(group)
        for menu in build_message_menus(self.registry, self.message_action):
            tree.add_command(menu)
        guild_id = self.config.discord_dev_guild_id
        if guild_id is not None:
            guild = discord.Object(guild_id)
            tree.copy_global_to(guild=guild)
            tree.clear_commands(guild=None)
            await tree.sync(guild=guild)
        else:
            await tree.sync()

    async def publish(self, event: Any) -> None:
        """Hand an inbound event to the dispatcher's intake (waiting while it is full) and
        return once it is handled (the gateway dispatch it came in is done only then: see
        ``resume``); never let a failure escape into discord.py."""
        try:
            await (await self.dispatcher.submit(event))
        except Exception:
            log.exception("publishing %s failed", type(event).__name__)

    async def _written(self) -> bool:
        """Whether what listeners handed on is on disk: features' own buffers (engagement's
        writer), and failures kept (one still in memory holds the watermark back)."""
        for feature in self.registry.features:
            await feature.written()
        await self.dispatcher.kept.flush()
        return self.dispatcher.kept.waiting == 0

    async def command(
        self, spec: CommandSpec, interaction: discord.Interaction[Any], values: dict[str, Any]
    ) -> None:
        """Run a slash command through the dispatcher."""
        responder = InteractionResponder(
            interaction, spec.feature, spec.ephemeral, defer_after=self.defer_after
        )
        try:
            guild_id = interaction.guild_id
            if guild_id is None:
                raise UserError("Steward's commands work inside a server.")
            where = community(guild_id)
            args: dict[str, Any] = {}
            problem: UserError | None = None
            for param in spec.params:
                value = values.get(param.name)
                if value is None:
                    continue
                if param.kind is ParamKind.MEMBER:
                    value = to_member(value, guild_id)
                elif param.kind in (ParamKind.CHANNEL, ParamKind.DESTINATION):
                    value = channel_ref(guild_id, value.id)
                elif param.kind is ParamKind.ROLE:
                    value = RoleRef(where, str(value.id))
                elif param.kind is ParamKind.FILE:
                    value = attached(value)
                elif param.kind is ParamKind.DURATION:
                    try:
                        value = parse_duration(str(value))
                    except UserError as exc:
                        problem = problem or exc  # told after the permission check
                        continue
                args[param.name] = value
            channel_id = interaction.channel_id or 0
            await self.dispatcher.invoke(
                Invocation(
                    spec=spec,
                    community=where,
                    actor=to_member(interaction.user, guild_id),
                    channel=channel_ref(guild_id, channel_id),
                    args=args,
                    responder=responder,
                    problem=problem,
                )
            )
        except UserError as exc:
            await responder.send(render_error(exc, error_id=""), ephemeral=True)
        finally:
            await responder.close()

    async def press(
        self,
        interaction: discord.Interaction[Any],
        parsed: tuple[str, str, str],
        data: dict[str, Any],
        *,
        scope: int | None = None,
    ) -> None:
        """Run a component or form handler through the dispatcher.

        ``scope`` is the guild named in a scoped custom_id: presses in DMs have no other."""
        feature, action, value = parsed
        in_dm = interaction.guild_id is None
        responder = InteractionResponder(
            interaction,
            feature,
            True,
            defer_after=self.defer_after,
            scope=scope if in_dm else None,
        )
        try:
            found = self.registry.component(feature, action)
            outsiders = found is not None and found[0].outsiders
            guild_id, actor = await self._presser(interaction, scope, outsiders=outsiders)
            message = None
            if interaction.message is not None:
                message = message_ref(
                    guild_id, interaction.message.channel.id, interaction.message.id
                )
            await self.dispatcher.press(
                Press(
                    community=community(guild_id),
                    actor=actor,
                    channel=channel_ref(guild_id, interaction.channel_id or 0),
                    feature=feature,
                    action=action,
                    value=value,
                    values=picked(data),
                    fields=form_fields(data),
                    message=message,
                    responder=responder,
                )
            )
        except UserError as exc:
            await responder.send(render_error(exc, error_id=""), ephemeral=True)
        finally:
            await responder.close()

    async def message_action(
        self,
        feature: str,
        action: str,
        interaction: discord.Interaction[Any],
        target: discord.Message,
    ) -> None:
        """Run a ``@message_action`` picked from a message's menu, with the message's snapshot."""
        responder = InteractionResponder(interaction, feature, True, defer_after=self.defer_after)
        try:
            guild_id, actor = await self._presser(interaction, None)
            channel = channel_ref(guild_id, target.channel.id)
            fields = {
                "author": str(target.author.id),
                "text": target.content,
                "at": target.created_at.isoformat(),
                "files": "\n".join(a.filename for a in target.attachments),
            }
            await self.dispatcher.press(
                Press(
                    community=community(guild_id),
                    actor=actor,
                    channel=channel,
                    feature=feature,
                    action=action,
                    value="",
                    values=(),
                    fields=fields,
                    message=message_ref(guild_id, target.channel.id, target.id),
                    responder=responder,
                )
            )
        except UserError as exc:
            await responder.send(render_error(exc, error_id=""), ephemeral=True)
        finally:
            await responder.close()

    async def _presser(
        self, interaction: discord.Interaction[Any], scope: int | None, *, outsiders: bool = False
    ) -> tuple[int, Member]:
        """The guild a press belongs to, and the presser as a member of it; strangers are refused
        (unless the component takes ``outsiders``: then a stranger is a member with no roles).

        In a guild the interaction says both. In a DM only the custom_id names the guild, and
        anyone can send any custom_id, so the presser's membership is looked up, never assumed."""
        guild_id = interaction.guild_id
        if guild_id is not None:
            if scope is not None and scope != guild_id:
                raise UserError("That button belongs to another server.")
            return guild_id, to_member(interaction.user, guild_id)
        if scope is None:
            raise UserError("That only works inside a server.")
        try:
            member = await self.port.fetch_member(
                UserRef(community(scope), str(interaction.user.id))
            )
        except discord.HTTPException as exc:
            log.warning("checking a DM presser in guild %s failed: %s", scope, exc)
            raise UserError("I couldn't check your membership just now; please try again.") from exc
        if member is None and outsiders:
            user = interaction.user
            return scope, Member(UserRef(community(scope), str(user.id)), user.display_name)
        if member is None:
            raise UserError(
                "That button belongs to a server you're not a member of, so it can't do "
                "anything for you."
            )
        return scope, member

    async def _tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Options discord.py could not turn into values: tell the invoker, privately."""
        self.tree_error_count += 1
        if isinstance(error, app_commands.TransformerError):
            text = f"I couldn't understand `{error.value!s:.40}`. Check the option and try again."
        else:
            error_id = log_failure(log, "slash command", error)
            text = render_error(error, error_id=error_id).text
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)

    async def start(self) -> None:
        """Log in, connect, and return once the guilds are ready."""
        assert self.config.discord_token is not None
        token = self.config.discord_token.get_secret_value()
        self._task = asyncio.create_task(self.bot.start(token), name="steward-discord")
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            try:
                self._task.result()
            except discord.LoginFailure:
                raise PlatformProblem(TOKEN_REFUSED) from None
            except discord.PrivilegedIntentsRequired:
                raise PlatformProblem(
                    "Discord refused the connection: a privileged intent the features need is "
                    f"off. {INTENT_FIX}."
                ) from None
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                from bot.adapters.discord.doctor import unreachable

                raise PlatformProblem(unreachable(self.config, exc) + ".") from None
            raise PlatformProblem("the Discord connection ended before it was ready; try again.")
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """discord.py stopped for good while Steward runs (it reconnects by itself from
        everything else): say why once, make sure nothing reconnects, and let /healthz tell."""
        if self._stopping or task.cancelled():
            return
        failure = task.exception()
        self.problem, advice = stopped_because(failure)
        log.error(
            "Discord closed the gateway connection for good (%s); Steward stopped reconnecting "
            "to it and keeps running the rest: %s, then restart Steward.",
            self.problem,
            advice,
        )
        # On a 4014 discord.py gives up without closing the client: close it (its HTTP session
        # too), so that it reads as down and nothing is sent with a refused identity.
        self._closing = asyncio.create_task(self.bot.close(), name="steward-discord-close")

    async def stop(self) -> None:
        """Disconnect."""
        self._stopping = True
        self.keeper.keep_sessions()
        await self.bot.close()
        for task in (self._task, self._closing):
            if task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task
        await self.keeper.close()


TOKEN_REFUSED = (
    "Discord refused STEWARD_DISCORD_TOKEN: copy it again from the Developer Portal "
    "(Bot → Reset Token)."
)
INTENT_FIX = "`steward doctor` names it; switch it on in Developer Portal → Bot"
_UNRETRIED = {
    4010: "the shard configuration is invalid",
    4011: "the bot is in too many servers to connect without sharding",
    4012: "the gateway version is invalid",
    4013: "the intents Steward asked for are invalid",
}


def stopped_because(failure: BaseException | None) -> tuple[str, str]:
    """Why discord.py gave up on the gateway (for /healthz), and what the operator should do."""
    if isinstance(failure, discord.PrivilegedIntentsRequired):
        return "a privileged intent the features need was switched off, close code 4014", (
            "`steward doctor` names the intent; switch it on in Developer Portal → Bot"
        )
    code = getattr(failure, "code", None)
    if isinstance(failure, discord.ConnectionClosed) and code == 4004:
        return "the token was reset or revoked, close code 4004", (
            "put the new token from the Developer Portal (Bot → Reset Token) in "
            "STEWARD_DISCORD_TOKEN"
        )
    if isinstance(failure, discord.ConnectionClosed) and code in _UNRETRIED:
        return f"{_UNRETRIED[code]}, close code {code}", "check `steward doctor`"
    if failure is None:
        return "the connection ended", "check `steward doctor` and the network"
    return f"{type(failure).__name__}: {failure}", "check `steward doctor` and the network"


def attached(attachment: discord.Attachment) -> AttachedFile:
    """A Discord attachment as the core's attached file; its bytes come from Discord's CDN."""
    return AttachedFile(
        filename=attachment.filename,
        content_type=attachment.content_type or "",
        size=attachment.size,
        fetch=attachment.read,
    )
