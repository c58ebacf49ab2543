"""A small harness for core tests: the real App on a real database, a recording platform edge.

Until the adapters land, the platform edge is a recording Port and Responder (the network edge,
not the core). The scenario driver over the fake Discord and Slack replaces this for features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.app import App
from bot.config import Config
from bot.core import (
    Capability,
    ChannelRef,
    CommunityRef,
    FakeClock,
    Feature,
    Form,
    Forum,
    Level,
    Member,
    Message,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    RoleRef,
    UserRef,
)
from bot.core.dispatch import Invocation
from bot.core.ids import Platform


@dataclass
class Reply:
    """What the invoker saw."""

    message: Message
    ephemeral: bool

    @property
    def text(self) -> str:
        """Everything readable in the reply, title and fields included."""
        parts = [self.message.title or "", self.message.text]
        parts += [f"{name}: {value}" for name, value in self.message.fields]
        return "\n".join(p for p in parts if p)


@dataclass
class RecordingResponder:
    """Keeps the replies one invocation produced."""

    replies: list[Reply] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)

    async def send(self, message: Message, *, ephemeral: bool) -> None:
        """Record a reply."""
        self.replies.append(Reply(message, ephemeral))

    async def open_form(self, form: Form) -> None:
        """Record a form."""
        self.forms.append(form)


@dataclass
class Sent:
    """A message the port posted."""

    where: ChannelRef | UserRef | MessageRef
    message: Message


class RecordingPort:
    """A platform edge that records what Steward asked it to do."""

    capabilities = frozenset(Capability) - {Capability.TIMEOUT}

    def __init__(self, platform: Platform = "discord") -> None:
        self.platform: Platform = platform
        self.sent: list[Sent] = []
        self.histories: dict[str, list[MessagePosted]] = {}
        self._next = 0

    def for_feature(self, feature: str) -> RecordingPort:
        """One recorder serves every feature."""
        return self

    def _ref(self, channel: ChannelRef) -> MessageRef:
        self._next += 1
        return MessageRef(channel, str(self._next))

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        """Record a post."""
        self.sent.append(Sent(channel, message))
        return self._ref(channel)

    async def reply(self, to: MessageRef, message: Message) -> MessageRef:
        """Record a reply."""
        self.sent.append(Sent(to, message))
        return self._ref(to.channel)

    async def dm(
        self,
        user: UserRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef | None:
        """Record a DM."""
        self.sent.append(Sent(user, message))
        return self._ref(ChannelRef(user.community, f"dm-{user.id}"))

    async def edit(self, message: MessageRef, new: Message) -> None:
        """Record an edit."""
        self.sent.append(Sent(message, new))

    async def open_thread(self, on: MessageRef, name: str) -> ChannelRef:
        """Pretend to open a thread."""
        return ChannelRef(on.channel.community, f"thread-{on.id}")

    async def open_group(
        self, users: Sequence[UserRef], *, name: str, parent: ChannelRef | None
    ) -> ChannelRef:
        """Pretend to open a group conversation."""
        return ChannelRef(users[0].community, "group-" + "-".join(u.id for u in users))

    async def crosspost(self, message: MessageRef) -> None:
        """Publish nothing."""

    async def forum(self, channel: ChannelRef) -> Forum | None:
        """No forums here."""
        return None

    async def add_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Record nothing."""

    async def remove_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Record nothing."""

    async def timeout(self, user: UserRef, until: datetime | None, *, reason: str) -> None:
        """Unsupported here, like Slack."""
        raise NotImplementedError

    async def kick(self, user: UserRef, *, reason: str) -> None:
        """Record nothing."""

    async def ban(self, user: UserRef, *, reason: str) -> None:
        """Record nothing."""

    async def unban(self, user: UserRef, *, reason: str) -> None:
        """Record nothing."""

    async def delete_message(self, message: MessageRef, *, reason: str) -> None:
        """Record nothing."""

    async def purge(self, channel: ChannelRef, user: UserRef, count: int, *, reason: str) -> int:
        """Nothing is deleted here."""
        return 0

    async def remove_from_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> bool:
        """Nobody is removed here."""
        return False

    async def fetch_member(self, user: UserRef) -> Member | None:
        """Nobody is looked up here."""
        return None

    async def open_form(self, token: str, form: Form) -> None:
        """Record nothing."""

    async def channels(self, community: CommunityRef) -> list[ChannelRef]:
        """One channel, with the history recorded in ``histories``."""
        return [ChannelRef(community, "200")]

    async def channel_names(self, community: CommunityRef) -> dict[str, str]:
        """The one channel's name."""
        return {"200": "general"}

    async def history(
        self, channel: ChannelRef, after: str | None, limit: int
    ) -> list[MessagePosted | ReactionAdded]:
        """What a test put in ``histories`` for the channel, after ``after``."""
        found = self.histories.get(channel.id, [])
        start = 0 if after is None else int(after)
        return [m for m in found if int(m.message.id) > start][:limit]

    async def add_to_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> None:
        """Record nothing."""

    async def count_members(self, community: CommunityRef) -> int | None:
        """Nobody is counted here."""
        return None

    async def myself(self, community: CommunityRef) -> Member | None:
        """Steward, a bot ranked above everyone here."""
        return Member(UserRef(community, "steward"), "Steward", Level.ADMIN, is_bot=True)

    async def channel_members(self, channel: ChannelRef) -> list[UserRef]:
        """Nobody is in a channel here."""
        return []


class Harness:
    """The real App (dispatcher, database, timers, jobs) with a fake clock and a recording port."""

    def __init__(
        self, database_url: str, features: Sequence[Feature] | None = None, **settings: Any
    ) -> None:
        self.clock = FakeClock()
        config = Config(_env_file=None, database_url=database_url, features=["all"], **settings)
        self.app = App(config, clock=self.clock, features=features)
        self.port = RecordingPort()
        self.app.dispatcher.add_port(self.port)
        self.community = CommunityRef("discord", "100")
        self.channel = ChannelRef(self.community, "200")

    async def __aenter__(self) -> Harness:
        await self.app.start(background=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.stop()

    def member(self, name: str, level: Level = Level.MEMBER) -> Member:
        """A member of the test community."""
        return Member(UserRef(self.community, f"u-{name}"), name, level)

    async def run(self, actor: Member, command: str, **args: Any) -> list[Reply]:
        """Run ``"feature words"`` as ``actor``; return what they saw."""
        feature, _, name = command.partition(" ")
        spec = self.app.registry.command(feature, name)
        assert spec is not None, f"no command /{command}"
        responder = RecordingResponder()
        await self.app.dispatcher.invoke(
            Invocation(
                spec=spec,
                community=self.community,
                actor=actor,
                channel=self.channel,
                args=args,
                responder=responder,
            )
        )
        return responder.replies

    async def advance(self, delta: timedelta) -> None:
        """Move the clock and run every timer and job that has come due."""
        self.clock.advance(delta)
        await self.app.timers.run_due()
        await self.app.dispatcher.kept.settle()
        await self.app.jobs.run_due()
