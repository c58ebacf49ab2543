"""Interactions as the invoking user experiences them, and slash-command option building."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import payloads
from .permissions import channel_permissions
from .state import JSON, Channel, Command, Guild, Message, Role, User, World

DEFERRED = (5, 6)
"""Callback types that show "thinking…" and leave the answer for later."""
AFTER_DEFERRAL = 12
"""How many times the first deadline a deferred answer may take (Discord allows 15 minutes)."""

if TYPE_CHECKING:
    from .server import FakeDiscord

# option types
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


@dataclass
class InteractionResult:
    """What the invoking user saw: the response, its edits, followups or a modal."""

    fake: FakeDiscord
    id: str
    token: str
    type: int
    user_id: str
    channel_id: str
    guild_id: str | None
    payload: JSON
    created: float
    source_message_id: str | None = None
    triggered_by: InteractionResult | None = None  # the interaction that opened this modal
    callback_type: int | None = None
    original_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None
    edits: int = 0
    _settled: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def acknowledged(self) -> bool:
        """Return True once the bot answered the interaction callback."""
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        """Return True if the bot deferred (callback 5 or 6)."""
        return self.callback_type in (5, 6)

    @property
    def message(self) -> Message | None:
        """Return the message the user now sees as the response (original or updated source)."""
        if self.callback_type in (6, 7) and self.source_message_id:
            return self.fake.world.messages.get(self.source_message_id)
        if self.original_id:
            return self.fake.world.messages.get(self.original_id)
        return None

    @property
    def ephemeral(self) -> bool:
        """Return True if the response is visible only to the invoker."""
        msg = self.message
        return bool(msg and msg.ephemeral)

    @property
    def content(self) -> str:
        """Return the response's current text (after edits)."""
        msg = self.message
        return msg.content if msg and not msg.deleted else ""

    @property
    def embeds(self) -> list[JSON]:
        """Return the response's current embeds."""
        msg = self.message
        return list(msg.embeds) if msg else []

    @property
    def components(self) -> list[JSON]:
        """Return the response's current components."""
        msg = self.message
        return list(msg.components) if msg else []

    @property
    def followups(self) -> list[Message]:
        """Return followup messages, in order."""
        return [self.fake.world.messages[i] for i in self.followup_ids]

    @property
    def text(self) -> str:
        """Return everything the user read: the response, then each followup, one per line."""
        parts = [self.content] if self.content else []
        parts += [m.content for m in self.followups if not m.deleted and m.content]
        return "\n".join(parts)

    def settle(self) -> None:
        """Mark the interaction as answered in a way the user can see."""
        self._settled.set()

    async def wait(self, timeout: float = 5.0) -> InteractionResult:  # noqa: ASYNC109 - a deadline is part of this test-facing API
        """Wait until the bot answered (a deferral counts once it is completed)."""
        try:
            await asyncio.wait_for(self._settled.wait(), timeout)
            return self
        except TimeoutError:
            pass
        try:  # deferred ("thinking…"): Discord allows the follow-up 15 minutes, so on a busy
            if self.callback_type in DEFERRED:  # machine wait longer before calling it lost
                await asyncio.wait_for(self._settled.wait(), timeout * AFTER_DEFERRAL)
                return self
            raise TimeoutError
        except TimeoutError:
            raise AssertionError(
                f"interaction {self.id} (type {self.type}) got no visible answer in {timeout}s; "
                f"callback={self.callback_type}"
            ) from None
        return self


def find_command(
    commands: Mapping[str | None, list[Command]], guild_id: str | None, name: str, type_: int
) -> Command:
    """Return the synced command the client would show: guild scope first, then global."""
    scopes = [guild_id, None] if guild_id else [None]
    for scope in scopes:
        for cmd in commands.get(scope, []):
            if cmd.name == name and cmd.type == type_:
                return cmd
    synced = {str(s): [c.name for c in cs] for s, cs in commands.items()}
    raise LookupError(f"command {name!r} was not synced by the bot (synced: {synced})")


@dataclass
class Resolver:
    """Collects ``resolved`` data while options are built."""

    world: World
    guild: Guild | None
    channel: Channel
    store: Callable[[str, bytes, str], JSON] | None = None
    resolved: dict[str, dict[str, JSON]] = field(default_factory=dict)

    def add_user(self, u: User) -> str:
        """Resolve a user (and their member in the guild)."""
        self.resolved.setdefault("users", {})[u.id] = payloads.user(u)
        if self.guild is not None and u.id in self.guild.members:
            m = payloads.partial_member(self.guild.members[u.id])
            m["permissions"] = str(channel_permissions(self.guild, self.channel, u.id))
            self.resolved.setdefault("members", {})[u.id] = m
        return u.id

    def add_message(self, m: Message) -> str:
        """Resolve a message (a message context-menu command's target)."""
        self.resolved.setdefault("messages", {})[m.id] = payloads.message(self.world, m)
        return m.id

    def add_role(self, r: Role) -> str:
        """Resolve a role."""
        self.resolved.setdefault("roles", {})[r.id] = payloads.role(r)
        return r.id

    def add_channel(self, c: Channel, invoker_id: str) -> str:
        """Resolve a channel with the invoker's permissions in it."""
        self.resolved.setdefault("channels", {})[c.id] = payloads.resolved_channel(
            self.world, c, invoker_id
        )
        return c.id

    def add_attachment(self, raw: Any) -> str:
        """Upload a file the user attached: ``(filename, bytes)`` or
        ``(filename, bytes, content_type)``; resolved as Discord's CDN serves it."""
        if self.store is None:
            raise ValueError("this interaction cannot carry files")
        if not (isinstance(raw, tuple) and len(raw) in (2, 3) and isinstance(raw[1], bytes)):
            raise ValueError(f"an attachment option takes (filename, bytes), not {raw!r}")
        filename, data, *kind = raw
        attachment = self.store(filename, data, kind[0] if kind else "application/octet-stream")
        self.resolved.setdefault("attachments", {})[attachment["id"]] = attachment
        return str(attachment["id"])


def _lookup(world: World, guild: Guild | None, value: Any, kinds: tuple[type, ...]) -> Any:
    if isinstance(value, kinds):
        return value
    key = str(getattr(value, "id", value))
    if User in kinds and key in world.users:
        return world.users[key]
    if Role in kinds and guild is not None and key in guild.roles:
        return guild.roles[key]
    if Channel in kinds and key in world.channels:
        return world.channels[key]
    raise ValueError(f"cannot resolve {value!r} as {[k.__name__ for k in kinds]}")


def build_options(
    resolver: Resolver,
    command: Command,
    path: list[str],
    values: Mapping[str, Any],
    invoker_id: str,
) -> list[JSON]:
    """Return the interaction ``options`` for ``/name sub ...`` as the client would build them.

    Raises ValueError for unknown or missing options, wrong choices or wrong channel types.
    """
    defs: list[JSON] = list(command.payload.get("options") or [])
    top: list[JSON] = []
    container = top
    for sub in path:
        match = next(
            (o for o in defs if o["name"] == sub and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)),
            None,
        )
        if match is None:
            raise ValueError(f"/{command.name} has no subcommand {sub!r}")
        node: JSON = {"name": sub, "type": match["type"], "options": []}
        container.append(node)
        container = node["options"]
        defs = list(match.get("options") or [])
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in defs):
        raise ValueError(f"/{command.name} {' '.join(path)} needs a subcommand")
    by_name = {o["name"]: o for o in defs}
    for name in values:
        if name not in by_name:
            raise ValueError(f"unknown option {name!r}; options are {sorted(by_name)}")
    for o in defs:
        if o.get("required") and o["name"] not in values:
            raise ValueError(f"missing required option {o['name']!r}")
    for name, raw in values.items():
        o = by_name[name]
        container.append(
            {"name": name, "type": o["type"], "value": _convert(resolver, o, raw, invoker_id)}
        )
    return top


def _convert(resolver: Resolver, o: JSON, raw: Any, invoker_id: str) -> Any:
    t = o["type"]
    world, guild = resolver.world, resolver.guild
    if t == USER:
        return resolver.add_user(_lookup(world, guild, raw, (User,)))
    if t == ROLE:
        return resolver.add_role(_lookup(world, guild, raw, (Role,)))
    if t == MENTIONABLE:
        target = _lookup(world, guild, raw, (User, Role))
        return resolver.add_user(target) if isinstance(target, User) else resolver.add_role(target)
    if t == CHANNEL:
        ch = _lookup(world, guild, raw, (Channel,))
        allowed = o.get("channel_types")
        if allowed and ch.type not in allowed:
            raise ValueError(f"option {o['name']!r} accepts channel types {allowed}, not {ch.type}")
        return resolver.add_channel(ch, invoker_id)
    if t == ATTACHMENT:
        return resolver.add_attachment(raw)
    value: Any = {STRING: str, INTEGER: int, NUMBER: float, BOOLEAN: bool}[t](raw)
    choices = o.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(f"{value!r} is not a choice of {o['name']!r}")
    return value
