"""Acting in the open: platform actions that may be refused, telling the staff once, reaching
a member who may have closed their DMs. Every feature uses these through its context."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Literal, Protocol

from bot.core.errors import NotSupported, UserError
from bot.core.ids import ChannelRef, RoleRef, UserRef
from bot.core.message import Button, Message, mention
from bot.core.port import Port
from bot.core.settings import CommunitySettings

Reached = Literal["dm", "channel", "staff", "nowhere"]


class Acting(Protocol):
    """The part of a handler's context these services use (``Context`` has it all)."""

    feature: str
    port: Port
    log: logging.LoggerAdapter[logging.Logger]

    async def deliver(self, target: ChannelRef | UserRef, message: Message, *, key: str) -> bool:
        """Send once per key through the outbox."""
        ...

    async def commit(self) -> None:
        """Commit the handler's work so far."""
        ...

    async def community_settings(self) -> CommunitySettings:
        """The community's own settings."""
        ...


def staff_message(
    text: str, role: RoleRef | None, ping: frozenset[UserRef] = frozenset()
) -> Message:
    """A message for the staff, pinging their role when there is one."""
    return Message(
        text=(f"{mention(role)} " if role else "") + text,
        ping_roles=frozenset({role}) if role else frozenset(),
        ping_users=ping,
    )


async def alert_staff(
    ctx: Acting,
    text: str,
    *,
    key: str,
    channel: ChannelRef | None = None,
    role: RoleRef | None = None,
) -> bool:
    """Tell the staff about a problem once per ``key`` (through the outbox); False when this
    key was told already or there is nowhere to tell it (then it is logged)."""
    if channel is None:
        shared = await ctx.community_settings()
        channel, role = shared.staff_channel, role or shared.staff_role
    if channel is None:
        ctx.log.warning("staff alert, but no staff channel is set: %s", text)
        return False
    return await ctx.deliver(channel, staff_message(text, role), key=f"staff:{key}")


async def attempt(
    ctx: Acting,
    what: str,
    call: Awaitable[Any],
    *,
    key: str,
    meanwhile: str,
    channel: ChannelRef | None = None,
) -> bool:
    """Do one platform action; when the platform refuses, tell the staff once (in plain words,
    with the fix) and let the caller carry on. True when the action was done."""
    name = ctx.feature.capitalize()
    try:
        await call
    except NotSupported:
        text = (
            f"{name} can't {what} on {ctx.port.platform.capitalize()}; change the {ctx.feature} "
            "settings to use what this platform offers."
        )
        await alert_staff(ctx, text, key=f"unsupported:{key}", channel=channel)
        await ctx.commit()
        return False
    except UserError as exc:
        text = f"{name} couldn't {what}. {exc.message} {meanwhile}"
        await alert_staff(ctx, text, key=key, channel=channel)
        await ctx.commit()
        return False
    return True


async def reach(
    ctx: Acting,
    user: UserRef,
    message: Message,
    *,
    about: str,
    dm: bool = True,
    public: ChannelRef | None = None,
    public_buttons: tuple[Button, ...] = (),
    staff: ChannelRef | None = None,
    staff_role: RoleRef | None = None,
) -> Reached:
    """Reach a member: by DM (unless ``dm=False``: known closed), else a mention in ``public``,
    else a word to the staff (``staff`` or the community's staff channel). Says where it went."""
    if dm and await ctx.port.dm(user, message) is not None:
        return "dm"
    if public is not None:
        shown = Message(
            text=f"{mention(user)} {message.text}",
            buttons=public_buttons,
            ping_users=frozenset({user}),
        )
        await ctx.port.send(public, shown)
        return "channel"
    if staff is None:
        shared = await ctx.community_settings()
        staff, staff_role = shared.staff_channel, staff_role or shared.staff_role
    if staff is not None:
        text = f"I couldn't reach {mention(user)} by DM ({about}). Could someone help them?"
        await ctx.port.send(staff, staff_message(text, staff_role))
        return "staff"
    return "nowhere"
