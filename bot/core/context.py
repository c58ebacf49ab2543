"""What a handler gets: the community, the platform port, its unit of work, settings and time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol

from bot.core import staff
from bot.core.clock import Clock
from bot.core.events import Event
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, UserRef
from bot.core.members import Member
from bot.core.message import Form, Message
from bot.core.outbox import Delivery, Outbox
from bot.core.port import Port
from bot.core.settings import COMMUNITY_FEATURE, CommunitySettings, S, SettingsStore
from bot.core.timers import Timers
from bot.core.together import Together
from bot.db.uow import UnitOfWork


class Responder(Protocol):
    """How an adapter answers the person who ran a command or pressed a component."""

    async def send(self, message: Message, *, ephemeral: bool) -> None:
        """Answer the invoker; ephemeral answers are seen by them alone."""
        ...

    async def open_form(self, form: Form) -> None:
        """Open a form (modal) for the invoker."""
        ...


@dataclass(kw_only=True)
class Context(Generic[S]):
    """Everything a listener, job or timer handler may use."""

    community: CommunityRef
    feature: str
    port: Port
    uow: UnitOfWork
    reads: Callable[[], UnitOfWork]
    """A separate unit of work that only reads (``async with ctx.reads() as r``): on SQLite it
    neither takes nor waits for the write lock, so a handler can look before it decides to
    write (and talk to the platform first) without holding every other writer up."""
    settings: S
    clock: Clock
    timers: Timers
    log: logging.LoggerAdapter[logging.Logger]
    outbox: Outbox
    published: list[Event] = field(default_factory=list)

    async def deliver(
        self,
        target: ChannelRef | UserRef,
        message: Message,
        *,
        key: str,
        together: Together | None = None,
    ) -> bool:
        """Send ``message`` to a channel, thread or member (by DM) exactly once per ``key``.

        The delivery is written in this handler's transaction and sent once it commits, after
        the deliveries written before it to the same place; a failure that may pass is tried
        again later. False when this key was delivered (or queued) already. ``together``: when
        several such posts wait for the channel at once, they go out as one (the kind's merger
        writes it).
        """
        return await self.outbox.deliver(target, message, key=key, together=together)

    async def edit(self, channel: ChannelRef, message: Message, *, of: str, key: str) -> bool:
        """Change the post delivered to ``channel`` with key ``of`` to ``message``, once per
        ``key``; through the outbox like a post, after it (the latest edit queued stays)."""
        return await self.outbox.edit(channel, message, of=of, key=key)

    async def delivery(self, key: str) -> Delivery | None:
        """What became of the delivery with this key: pending, sent (where) or failed (why)."""
        return await self.outbox.delivery(key)

    def publish(self, event: Event) -> None:
        """Publish a domain event; it is delivered after this handler's work commits."""
        self.published.append(event)

    async def commit(self) -> None:
        """Commit what this handler wrote so far (write, commit, then act)."""
        await self.uow.commit()

    async def community_settings(self) -> CommunitySettings:
        """The whole community's settings: time zone, quiet hours, moderator role, staff."""
        store = SettingsStore.of(self.uow)
        return await store.get(self.community, CommunitySettings, COMMUNITY_FEATURE)

    # Acting in the open (bot.core.staff): ``ctx.alert_staff(text, key=...)``,
    # ``ctx.attempt(what, call, key=...)`` and ``ctx.reach(user, message, about=...)``.
    alert_staff = staff.alert_staff
    attempt = staff.attempt
    reach = staff.reach


@dataclass(kw_only=True)
class JobContext(Context[S]):
    """The context of a recurring job or a one-off timer."""


@dataclass(kw_only=True)
class CommandContext(Context[S]):
    """The context of a command, button, select or form submission."""

    actor: Member
    channel: ChannelRef
    responder: Responder
    ephemeral: bool = True
    message: MessageRef | None = None
    replied: bool = False
    pending: list[tuple[Message, bool]] = field(default_factory=list)

    async def reply(self, message: Message | str, *, ephemeral: bool | None = None) -> None:
        """Answer the invoker (privately by default for most commands).

        The answer is sent once what the handler wrote is committed (write, commit, then act),
        so nobody reads "saved" about a change that then fails; a handler that fails instead
        sends only its error.
        """
        if isinstance(message, str):
            message = Message(text=message)
        self.replied = True
        self.pending.append((message, self.ephemeral if ephemeral is None else ephemeral))

    async def commit(self) -> None:
        """Commit what this handler wrote so far, then send the answers it has given."""
        await self.uow.commit()
        await self.send_replies()

    async def send_replies(self) -> None:
        """Send the answers given so far (the dispatcher calls this after the final commit)."""
        pending, self.pending = self.pending, []
        for message, ephemeral in pending:
            await self.responder.send(message, ephemeral=ephemeral)

    async def open_form(self, form: Form) -> None:
        """Show the invoker a form; its submission comes back to ``@component(form.action)``."""
        self.replied = True
        await self.responder.open_form(form)
