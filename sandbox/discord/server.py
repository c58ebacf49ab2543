"""FakeDiscord: the server lifecycle, the world it keeps, what people read, and faults.

Waiting for the bot is in ``settling.py``, people acting in the client in ``acting.py``."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from . import payloads, routes_app, routes_guilds, routes_interactions, routes_messages
from .acting import PeopleActing
from .gateway import Gateway, Intent, Session, required_intent
from .hierarchy import Hierarchy
from .ids import SnowflakeGenerator
from .interactions import InteractionResult
from .moderating import Moderating
from .permissions import ALL_PERMISSIONS, Permission, channel_permissions
from .recording import OperationLog, default_operation_log
from .rest import API_PREFIX, RestApi
from .settling import Settling
from .state import (
    DM,
    FORUMS,
    JSON,
    REQUIRE_TAG,
    TEXT,
    THREAD_TYPES,
    Application,
    Channel,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    User,
    World,
)
from .validate import Spec, SpecValidator, Violation, load_spec

BOT_ROLE_PERMISSIONS = ALL_PERMISSIONS & ~Permission.ADMINISTRATOR
# Importing the route modules registers their handlers by operationId.
ROUTE_MODULES = (routes_app, routes_guilds, routes_interactions, routes_messages)
_GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})
"""Events whose payload is the guild itself (its ``id``, not a ``guild_id``)."""


class FakeDiscord(Settling, PeopleActing, Moderating, Hierarchy):
    """A protocol-faithful Discord (REST + gateway) on 127.0.0.1, validated against the spec."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_name: str = "Steward",
        validate: bool = True,
        spec: Spec | None = None,
        operation_log: OperationLog | None = None,
        privileged_intents: int = Intent.PRIVILEGED,
        interaction_deadline: float = 30.0,
        speed: float | None = None,
        snowflake: SnowflakeGenerator | None = None,
    ) -> None:
        self.world = World(snowflake)
        self.bot = self.world.add_user(bot_name, bot=True)
        # Shaped like Discord's: the bot's id in base64, then two more parts.
        self.token = (
            token or f"{base64.b64encode(self.bot.id.encode()).decode().rstrip('=')}.F4k3.t0ken"
        )
        self.owner = self.world.add_user("owner")
        self.app = Application(self.bot.id, bot_name, self.owner.id, privileged_intents)
        self.interaction_deadline = interaction_deadline
        self.violations: list[Violation] = []
        self.operations_used: set[str] = set()
        self.operation_log = operation_log if operation_log is not None else default_operation_log()
        self.validator = SpecValidator(spec or load_spec()) if validate else None
        self.rest = RestApi(self, self.validator, speed)
        self.gateway = Gateway(self, lambda: self.gateway_url, self.rest.limits.speed)
        self.interactions: dict[str, InteractionResult] = {}  # by token
        self.recommended_shards = 1
        """The shard count GET /gateway/bot recommends (Discord: one per ~1,000 guilds)."""
        self.attachments: dict[str, bytes] = {}
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        # The last sequence the client has handled, when it runs in this process (the sandbox
        # and the scenario driver set it): lets settle() wait without spending gateway sends,
        # which discord.py rate-limits to 120 a minute.
        self.client_sequence: Callable[[], int | None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> FakeDiscord:
        """Start serving on an ephemeral port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get(self.gateway.RESUME_PATH, self.gateway.handle)
        app.router.add_get("/attachments/{id}/{filename}", self._serve_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def close(self) -> None:
        """Stop serving and record the operations used."""
        await self.gateway.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.operation_log.add_all(self.operations_used)

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """Return the REST base URL (what discord.py calls Route.BASE)."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Return the gateway websocket URL."""
        return f"ws://127.0.0.1:{self.port}/"

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        data = self.attachments.get(request.match_info["id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ violations
    def add_violation(self, violation: Violation) -> None:
        """Record a spec violation or unknown route (fails the test at teardown)."""
        self.violations.append(violation)

    def assert_clean(self) -> None:
        """Raise AssertionError listing every violation seen so far."""
        if self.violations:
            lines = "\n  ".join(str(v) for v in self.violations)
            raise AssertionError(
                f"fake Discord saw {len(self.violations)} violation(s):\n  {lines}"
            )

    @property
    def requests(self) -> list[Any]:
        """Return the REST log (RequestRecord objects, oldest first)."""
        return self.rest.log

    # ------------------------------------------------------------------ gateway host
    def enabled_privileged_intents(self) -> int:
        """Return the privileged intents enabled for the application."""
        return self.app.enabled_privileged_intents

    def ready_payload(self, session: Session) -> JSON:
        """Return READY for a new session."""
        d: JSON = {
            "v": 10,
            "user": payloads.me(self.bot),
            "guilds": [
                {"id": g.id, "unavailable": True}
                for g in self._bot_guilds()
                if session.serves(g.id)
            ],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url.rstrip("/") + self.gateway.RESUME_PATH,
            "application": {"id": self.app.id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            d["shard"] = session.shard
        return d

    def guild_create_payloads(self, session: Session) -> list[JSON]:
        """Return GUILD_CREATE for every guild; members hold only the bot, as Discord sends."""
        return [
            payloads.guild_create(self.world, g, self.bot.id, [self.bot.id])
            for g in self._bot_guilds()
            if session.serves(g.id)
        ]

    def member_chunks(self, session: Session, request: JSON) -> list[JSON]:
        """Answer op 8 with GUILD_MEMBERS_CHUNKs (1000 per chunk; user_ids or query+limit)."""
        guild = self.world.guilds.get(str(request.get("guild_id")))
        if guild is None:
            return []
        members: list[Member] = []
        not_found: list[str] = []
        if request.get("user_ids") is not None:
            ids = request["user_ids"]
            for uid in [str(u) for u in (ids if isinstance(ids, list) else [ids])][:100]:
                if uid in guild.members:
                    members.append(guild.members[uid])
                else:
                    not_found.append(uid)
        elif session.has(Intent.GUILD_MEMBERS) or request.get("query"):
            # Without GUILD_MEMBERS a full-list request gets an empty chunk (documented choice).
            query = str(request.get("query") or "").lower()
            limit = int(request.get("limit") or 0)
            for m in guild.members.values():
                u = self.world.users[m.user_id]
                if u.username.lower().startswith(query) or (m.nick or "").lower().startswith(query):
                    members.append(m)
            if query and limit:
                members = members[: min(limit, 100)]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        return [
            {
                "guild_id": guild.id,
                "members": [payloads.member(self.world, m) for m in chunk],
                "chunk_index": i,
                "chunk_count": len(chunks),
                "not_found": not_found if i == 0 else [],
                "nonce": request.get("nonce"),
            }
            for i, chunk in enumerate(chunks)
        ]

    def _bot_guilds(self) -> list[Guild]:
        return [g for g in self.world.guilds.values() if self.bot.id in g.members]

    # ------------------------------------------------------------------ dispatch helpers
    def dispatch(
        self, event: str, data: Any, *, guild_id: str | None = None, dm: bool = False
    ) -> None:
        """Send an event to the bot if its intents allow it (buffered while disconnected), on
        the shard of its guild (``guild_id``, else the payload's; a DM's on shard 0)."""
        intent = required_intent(event, in_guild=not dm)
        if guild_id is None and not dm and isinstance(data, dict):
            guild_id = data.get("guild_id") or (data.get("id") if event in _GUILD_EVENTS else None)
        self.gateway.dispatch(event, data, intent=intent, guild_id=guild_id)

    def message_event(self, msg: Message, event: str = "MESSAGE_CREATE") -> None:
        """Dispatch MESSAGE_CREATE/UPDATE, blanking content without the MESSAGE_CONTENT intent."""
        if msg.ephemeral:
            return
        full = payloads.message(self.world, msg, with_member=True, nonce=event == "MESSAGE_CREATE")

        def shaped(intents: int) -> JSON:
            if intents & Intent.MESSAGE_CONTENT or not self._content_is_privileged(msg):
                return full
            return {**full, "content": "", "embeds": [], "attachments": [], "components": []}

        self.dispatch(event, shaped, guild_id=msg.guild_id, dm=msg.guild_id is None)

    def _content_is_privileged(self, msg: Message) -> bool:
        if msg.guild_id is None or msg.author_id == self.bot.id:
            return False
        return self.bot.id not in msg.mentions

    # ------------------------------------------------------------------ world building
    def add_user(self, username: str, *, dms_open: bool = True, bot: bool = False) -> User:
        """Create a user account (not yet in any guild)."""
        user = self.world.add_user(username, bot=bot)
        user.dms_open = dms_open
        return user

    def add_guild(
        self,
        name: str = "Community",
        *,
        owner: User | None = None,
        bot_permissions: int = BOT_ROLE_PERMISSIONS,
        bot_role_position: int | None = None,
    ) -> Guild:
        """Create a guild the bot is in, with a managed bot role and a #general channel."""
        guild = self.world.add_guild(name, owner or self.owner)
        bot_role = self.world.add_role(
            guild, self.bot.username, bot_permissions, managed=True, position=bot_role_position
        )
        guild.members[self.bot.id] = Member(
            user_id=self.bot.id, guild_id=guild.id, roles=[bot_role.id]
        )
        self.world.add_channel(guild, "general")
        if self.gateway.sessions:
            payload = payloads.guild_create(self.world, guild, self.bot.id, [self.bot.id])
            self.dispatch("GUILD_CREATE", payload)
        return guild

    def guild_on_each_shard(self, shards: int, *, have: Iterable[Guild] = ()) -> list[Guild]:
        """A guild on each of ``shards`` shards, by shard: one of ``have`` where it is on that
        shard, else a new one (a guild's shard is ``(id >> 22) % shards``; ids made in the same
        millisecond share one, so a new guild on a taken shard is dropped and made again)."""
        taken = {(int(g.id) >> 22) % shards: g for g in have}
        while len(taken) < shards:
            guild = self.add_guild(f"Guild {len(taken)}", owner=self.owner)
            shard = (int(guild.id) >> 22) % shards
            if shard in taken:
                self.world.guilds.pop(guild.id)
                continue
            taken[shard] = guild
        return [taken[s] for s in range(shards)]

    def bot_role(self, guild: Guild) -> Role:
        """Return the bot's managed role in a guild."""
        return next(r for r in guild.roles.values() if r.managed and r.name == self.bot.username)

    def add_role(
        self,
        guild: Guild,
        name: str,
        permissions: int = 0,
        *,
        position: int | None = None,
        mentionable: bool = False,
    ) -> Role:
        """Create a role (by default the new highest one; pass ``position`` to place it lower)."""
        if position is not None:
            for r in guild.roles.values():
                if r.id != guild.id and r.position >= position:
                    r.position += 1
                    data = {"guild_id": guild.id, "role": payloads.role(r)}
                    self.dispatch("GUILD_ROLE_UPDATE", data)  # Discord tells of each move
        role = self.world.add_role(
            guild, name, permissions, position=position, mentionable=mentionable
        )
        self.dispatch("GUILD_ROLE_CREATE", {"guild_id": guild.id, "role": payloads.role(role)})
        return role

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = TEXT,
        parent: Channel | None = None,
        owner: User | None = None,
        tags: Sequence[str] = (),
        moderated: Sequence[str] = (),
        require_tag: bool = False,
    ) -> Channel:
        """Create a guild channel, or a thread (``type`` 11 or 12, with ``parent`` and ``owner``).

        Threads arrive as THREAD_CREATE (``newly_created``), as Discord sends them, not as
        CHANNEL_CREATE, which discord.py ignores for thread types. A forum (15) or media (16)
        channel offers ``tags`` (those in ``moderated`` only Manage Threads may apply) and may
        require one on every post.
        """
        kw: dict[str, Any] = {}
        if type in FORUMS:
            kw["available_tags"] = [
                {
                    "id": self.world.new_id(),
                    "name": tag,
                    "moderated": tag in moderated,
                    "emoji_id": None,
                    "emoji_name": None,
                }
                for tag in tags
            ]
            kw["flags"] = REQUIRE_TAG if require_tag else 0
        if type in THREAD_TYPES:
            if parent is None:
                raise ValueError("a thread needs a parent channel")
            opener = owner or self.owner
            kw["owner_id"] = opener.id
        channel = self.world.add_channel(
            guild, name, type, parent_id=parent.id if parent else None, **kw
        )
        if channel.is_thread:
            channel.thread_members.add(kw["owner_id"])
            payload = {**payloads.channel(self.world, channel), "newly_created": True}
            self.dispatch("THREAD_CREATE", payload)
        else:
            self.dispatch("CHANNEL_CREATE", payloads.channel(self.world, channel))
        return channel

    def set_forum_tags(
        self,
        forum: Channel,
        tags: Sequence[str],
        *,
        require_tag: bool,
        moderated: Sequence[str] = (),
    ) -> None:
        """A server manager edits a forum's tags (kept ids for names it had; those in
        ``moderated`` only Manage Threads may apply) and whether posts need one; members see
        CHANNEL_UPDATE."""
        had = {t["name"]: t for t in forum.available_tags}
        forum.available_tags = [
            (had.get(name) or {"id": self.world.new_id(), "name": name})
            | {"moderated": name in moderated, "emoji_id": None, "emoji_name": None}
            for name in tags
        ]
        forum.flags = forum.flags | REQUIRE_TAG if require_tag else forum.flags & ~REQUIRE_TAG
        self.dispatch("CHANNEL_UPDATE", payloads.channel(self.world, forum))

    def set_overwrite(
        self, channel: Channel, target: Role | User, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a channel permission overwrite for a role or a member."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites = [ow for ow in channel.overwrites if ow.id != target.id]
        channel.overwrites.append(Overwrite(target.id, kind, int(allow), int(deny)))
        self.dispatch("CHANNEL_UPDATE", payloads.channel(self.world, channel))

    def add_member(self, guild: Guild, user: User, *, roles: Iterable[Role] = ()) -> Member:
        """Put a user in a guild quietly (for world building; no event)."""
        member = Member(user_id=user.id, guild_id=guild.id, roles=[r.id for r in roles])
        guild.members[user.id] = member
        return member

    # ------------------------------------------------------------------ reading
    def messages_in(self, channel: Channel) -> list[Message]:
        """Return the channel's public messages, oldest first."""
        return [m for m in self.world.messages_in(channel.id) if m.visible_to is None]

    def sees(self, user: User, channel: Channel) -> list[Message]:
        """Return what a user sees in a channel: public messages plus ephemerals meant for them."""
        guild = self.world.guild_of(channel)
        if (
            guild is not None
            and not channel_permissions(guild, channel, user.id) & Permission.VIEW_CHANNEL
        ):
            return []
        if channel.type == DM and channel.recipient_id != user.id:
            return []
        return [m for m in self.world.messages_in(channel.id) if m.visible_to in (None, user.id)]

    def dms_of(self, user: User) -> list[Message]:
        """Return the DM conversation between the bot and a user, oldest first."""
        cid = self.world.dm_channels.get(user.id)
        return self.world.messages_in(cid) if cid else []

    def pings_of(self, user: User) -> list[Message]:
        """Return every live message that actually pinged the user (allowed_mentions applied)."""
        out = []
        for m in self.world.messages.values():
            if m.deleted or m.visible_to not in (None, user.id):
                continue
            guild = self.world.guilds.get(m.guild_id or "")
            member = guild.members.get(user.id) if guild else None
            by_role = member is not None and bool(set(m.mention_roles) & set(member.roles))
            everyone = m.mention_everyone and member is not None
            if user.id in m.mentions or by_role or everyone:
                out.append(m)
        return out

    def member(self, guild: Guild, user: User) -> Member | None:
        """Return the user's membership of the guild, if any."""
        return guild.members.get(user.id)

    def permissions_in(self, channel: Channel, user: User) -> int:
        """Return a user's effective permissions in a guild channel."""
        guild = self.world.guild_of(channel)
        return channel_permissions(guild, channel, user.id) if guild else 0

    # ------------------------------------------------------------------ faults
    def rate_limit_next(self, n: int, *, retry_after: float = 0.05, global_: bool = False) -> None:
        """Answer the next ``n`` REST requests with 429 (JSON retry_after, Via header)."""
        f = self.rest.faults
        f.rate_limited, f.retry_after, f.rate_limit_global = n, retry_after, global_

    def rate_limit_shared(self, channel_id: str, n: int, *, retry_after: float = 0.05) -> None:
        """Answer the next ``n`` requests on a channel with a shared-scope 429 (a busy resource's
        own limit: it does not count against the bot)."""
        self.rest.limits.shared[channel_id] = (n, retry_after)

    def ban_next(self, n: int) -> None:
        """Answer the next ``n`` REST requests as Cloudflare answers a banned address: 429 with
        a plain-text body and no ``Via`` header (discord.py raises at once, without waiting)."""
        self.rest.faults.banned = n

    def fail_next(self, n: int, *, status: int = 500) -> None:
        """Answer the next ``n`` REST requests with a 5xx."""
        self.rest.faults.server_errors, self.rest.faults.server_error_status = n, status

    def slow_responses(self, delay: float, *, count: int = 0) -> None:
        """Delay REST responses by ``delay`` seconds (the next ``count`` only, or all if 0)."""
        self.rest.faults.delay, self.rest.faults.delay_count = delay, count

    def drop_gateway(self, *, replay: bool = True) -> bool:
        """Cut the gateway TCP connection abruptly; the client should RESUME.

        ``replay=False``: what is dispatched until the client is back is lost, not buffered, so
        the RESUME succeeds and replays none of it (a lossy resume).
        """
        return self.gateway.drop(replay=replay)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT."""
        self.gateway.request_reconnect()

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION."""
        self.gateway.invalidate_session(resumable)

    def zombie_gateway(self) -> bool:
        """The gateway connection goes silent (no heartbeat ACK, no dispatch), TCP kept open."""
        return self.gateway.zombie()

    async def close_gateway(self, code: int) -> None:
        """Close the gateway connection with ``code`` (4009 also ends the session)."""
        await self.gateway.close(code)

    async def reset_token(self) -> None:
        """Reset Steward's token in the developer portal: the old one is refused from now on
        (REST 401, gateway 4004) and the live gateway connection closes with 4004."""
        self.token = "reset-" + self.token
        await self.gateway.close(4004)

    async def switch_off_privileged_intents(self) -> None:
        """Switch the privileged intents off in the developer portal while Steward runs: the
        live gateway connection closes with 4014, and so would every IDENTIFY or RESUME."""
        self.app.enabled_privileged_intents = 0
        await self.gateway.close(4014)
