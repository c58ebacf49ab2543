"""People acting in the client: joining, posting, reacting, and interactions (slash commands,
buttons, menus, forms), each sent to the bot as Discord would."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import payloads
from .ids import interaction_token
from .interactions import InteractionResult, Resolver, build_options, find_command
from .mentions import compute_pings
from .permissions import Permission, channel_permissions, has
from .state import DM, JSON, TEXT, Channel, Guild, Member, Message, Reaction, Role, User

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .gateway import Gateway
    from .state import Application, World


class PeopleActing:
    """FakeDiscord's test API for what people do; the fake dispatches the matching events."""

    world: World
    app: Application
    bot: User
    gateway: Gateway
    interactions: dict[str, InteractionResult]
    attachments: dict[str, bytes]
    port: int

    async def member_joins(self, guild: Guild, user: User, *, roles: Iterable[Role] = ()) -> Member:
        """A user joins the guild (GUILD_MEMBER_ADD); a banned user cannot, as on Discord."""
        if user.id in guild.bans:
            raise PermissionError(f"{user.username} is banned from {guild.name}")
        member = self.add_member(guild, user, roles=roles)
        self.dispatch(
            "GUILD_MEMBER_ADD", {**payloads.member(self.world, member), "guild_id": guild.id}
        )
        return member

    async def member_leaves(self, guild: Guild, user: User) -> None:
        """A member leaves the guild (GUILD_MEMBER_REMOVE)."""
        guild.members.pop(user.id, None)
        self.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": guild.id, "user": payloads.user(user)})

    async def user_says(
        self,
        user: User,
        channel: Channel,
        text: str,
        *,
        reply_to: Message | None = None,
        ping_author: bool = True,
    ) -> Message:
        """A user posts a message in a channel (mentions parsed as the client would); a reply
        pings the replied-to author unless the user switched that off (``ping_author``)."""
        guild = self.world.guild_of(channel)
        if guild is not None:
            perms = channel_permissions(guild, channel, user.id)
            if not has(perms, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES):
                raise PermissionError(f"{user.username} cannot post in #{channel.name}")
        elif channel.type == DM and channel.recipient_id != user.id:
            raise PermissionError(f"{user.username} is not in that DM")
        pings = compute_pings(
            self.world,
            content=text,
            author_id=user.id,
            channel=channel,
            allowed_mentions=None
            if ping_author
            else {"parse": ["users", "roles", "everyone"], "replied_user": False},
            replied_to=reply_to,
        )
        msg = Message(
            id=self.world.new_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=payloads.user(user),
            content=text,
            mentions=pings.users,
            mention_roles=pings.roles,
            mention_everyone=pings.everyone,
            type=19 if reply_to else 0,
            reference=_reference(reply_to) if reply_to else None,
        )
        self.world.add_message(msg)
        self.message_event(msg)
        return msg

    async def user_dms_bot(self, user: User, text: str) -> Message:
        """A user writes to the bot in DMs."""
        return await self.user_says(user, self.world.dm_channel(user), text)

    async def react(self, user: User, message: Message, emoji: str) -> None:
        """A user adds a unicode reaction."""
        emoji_obj = {"id": None, "name": emoji}
        reaction = next((r for r in message.reactions if r.emoji == emoji_obj), None)
        if reaction is None:
            reaction = Reaction(emoji_obj)
            message.reactions.append(reaction)
        if user.id not in reaction.users:
            reaction.users.append(user.id)
            event = payloads.reaction_event(self.world, message, user.id, emoji_obj, add=True)
            self.dispatch("MESSAGE_REACTION_ADD", event, dm=message.guild_id is None)

    async def unreact(self, user: User, message: Message, emoji: str) -> None:
        """A user removes their reaction."""
        emoji_obj = {"id": None, "name": emoji}
        for r in message.reactions:
            if r.emoji == emoji_obj and user.id in r.users:
                r.users.remove(user.id)
                event = payloads.reaction_event(self.world, message, user.id, emoji_obj, add=False)
                self.dispatch("MESSAGE_REACTION_REMOVE", event, dm=message.guild_id is None)

    async def user_edits(self, message: Message, text: str) -> None:
        """The author edits their message."""
        message.content = text
        message.edited_timestamp = payloads.timestamp()
        self.message_event(message, "MESSAGE_UPDATE")

    async def user_deletes(self, message: Message) -> None:
        """The author deletes their message."""
        message.deleted = True
        d: JSON = {"id": message.id, "channel_id": message.channel_id}
        if message.guild_id:
            d["guild_id"] = message.guild_id
        self.dispatch("MESSAGE_DELETE", d, dm=message.guild_id is None)

    def store_attachment(
        self, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> JSON:
        """Keep a file as Discord's CDN would and return its attachment object (served on
        loopback at its ``url``)."""
        aid = self.world.new_id()
        self.attachments[aid] = data
        url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{filename}"
        return {
            "id": aid,
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    # ------------------------------------------------------------------ interactions
    async def invoke_slash(
        self, user: User, where: Guild | Channel, command: str, /, **options: Any
    ) -> InteractionResult:
        """A user runs ``/command [group] [sub]`` with options; returns what they saw."""
        channel, guild = self._where(user, where)
        name, *path = command.split()
        cmd = find_command(self.app.commands, guild.id if guild else None, name, 1)
        self._check_can_use(user, guild, channel, cmd)
        resolver = Resolver(self.world, guild, channel, self.store_attachment)
        data: JSON = {
            "id": cmd.id,
            "name": cmd.name,
            "type": 1,
            "options": build_options(resolver, cmd, path, options, user.id),
        }
        if resolver.resolved:
            data["resolved"] = resolver.resolved
        if cmd.guild_id:
            data["guild_id"] = cmd.guild_id
        return await self._interact(2, user, channel, guild, data)

    async def invoke_user_command(
        self, user: User, where: Guild | Channel, name: str, target: User
    ) -> InteractionResult:
        """A user runs a user context-menu command on another user."""
        channel, guild = self._where(user, where)
        cmd = find_command(self.app.commands, guild.id if guild else None, name, 2)
        self._check_can_use(user, guild, channel, cmd)
        resolver = Resolver(self.world, guild, channel)
        resolver.add_user(target)
        data: JSON = {"id": cmd.id, "name": cmd.name, "type": 2, "target_id": target.id}
        data["resolved"] = resolver.resolved
        if cmd.guild_id:
            data["guild_id"] = cmd.guild_id
        return await self._interact(2, user, channel, guild, data)

    async def invoke_message_command(
        self, user: User, name: str, target: Message
    ) -> InteractionResult:
        """A user runs a message context-menu command on a message they can see."""
        channel = self.world.channels[target.channel_id]
        channel, guild = self._where(user, channel)
        cmd = find_command(self.app.commands, guild.id if guild else None, name, 3)
        self._check_can_use(user, guild, channel, cmd)
        resolver = Resolver(self.world, guild, channel)
        resolver.add_message(target)
        data: JSON = {"id": cmd.id, "name": cmd.name, "type": 3, "target_id": target.id}
        data["resolved"] = resolver.resolved
        if cmd.guild_id:
            data["guild_id"] = cmd.guild_id
        return await self._interact(2, user, channel, guild, data)

    async def click(self, user: User, message: Message, custom_id: str) -> InteractionResult:
        """A user presses a button on a message they can see."""
        return await self._component(user, message, custom_id, {"component_type": 2})

    async def select(
        self, user: User, message: Message, custom_id: str, values: list[str]
    ) -> InteractionResult:
        """A user picks values in a string select."""
        return await self._component(
            user, message, custom_id, {"component_type": 3, "values": list(values)}
        )

    async def submit_modal(
        self, user: User, opened: InteractionResult, values: dict[str, str]
    ) -> InteractionResult:
        """A user fills in and submits the modal the bot opened for them."""
        if opened.modal is None:
            raise AssertionError("the bot did not open a modal for this interaction")
        if opened.user_id != user.id:
            raise PermissionError("only the user who opened the modal can submit it")
        rows = _fill_modal(opened.modal.get("components", []), values)
        data = {"custom_id": opened.modal["custom_id"], "components": rows}
        channel = self.world.channels[opened.channel_id]
        guild = self.world.guild_of(channel)
        message = self.world.messages.get(opened.source_message_id or "")
        return await self._interact(
            5, user, channel, guild, data, message=message, triggered_by=opened
        )

    async def _component(
        self, user: User, message: Message, custom_id: str, data: JSON
    ) -> InteractionResult:
        if message.visible_to not in (None, user.id) or message.deleted:
            raise PermissionError(f"{user.username} cannot see that message")
        if custom_id not in message.custom_ids():
            raise ValueError(f"no component {custom_id!r} on the message: {message.custom_ids()}")
        channel = self.world.channels[message.channel_id]
        if channel.type == DM and channel.recipient_id != user.id:
            raise PermissionError(f"{user.username} cannot see someone else's DM")
        guild = self.world.guild_of(channel)
        return await self._interact(
            3, user, channel, guild, {**data, "custom_id": custom_id}, message=message
        )

    def _where(self, user: User, where: Guild | Channel) -> tuple[Channel, Guild | None]:
        if isinstance(where, Guild):
            visible = [
                c
                for c in where.channels.values()
                if c.type == TEXT
                and channel_permissions(where, c, user.id) & Permission.VIEW_CHANNEL
            ]
            if not visible:
                raise PermissionError(f"{user.username} sees no text channel in {where.name}")
            return visible[0], where
        return where, self.world.guild_of(where)

    def _check_can_use(self, user: User, guild: Guild | None, channel: Channel, cmd: Any) -> None:
        if guild is None:
            return
        if user.id not in guild.members:
            raise PermissionError(f"{user.username} is not a member of {guild.name}")
        perms = channel_permissions(guild, channel, user.id)
        if not perms & Permission.USE_APPLICATION_COMMANDS:
            raise PermissionError(f"{user.username} cannot use application commands here")
        needed = cmd.payload.get("default_member_permissions")
        if needed is not None and not has(perms, int(needed)):
            raise PermissionError(f"Discord hides /{cmd.name} from {user.username} (permissions)")

    async def _interact(
        self,
        type_: int,
        user: User,
        channel: Channel,
        guild: Guild | None,
        data: JSON,
        *,
        message: Message | None = None,
        triggered_by: InteractionResult | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is part of this test-facing API
    ) -> InteractionResult:
        iid, token = self.world.new_id(), interaction_token()
        payload: JSON = {
            "id": iid,
            "application_id": self.app.id,
            "type": type_,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": channel.id,
            "channel": payloads.resolved_channel(self.world, channel, user.id),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            member = payloads.member(self.world, guild.members[user.id])
            member["permissions"] = str(channel_permissions(guild, channel, user.id))
            payload.update(
                guild_id=guild.id,
                guild={"id": guild.id, "locale": "en-US", "features": []},
                member=member,
                guild_locale="en-US",
                app_permissions=str(channel_permissions(guild, channel, self.bot.id)),
                authorizing_integration_owners={"0": guild.id},
                context=0,
            )
        else:
            payload.update(
                user=payloads.user(user),
                app_permissions=str(int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)),
                authorizing_integration_owners={"1": user.id},
                context=1,
            )
        if message is not None:
            payload["message"] = payloads.message(self.world, message, with_member=False)
        result = InteractionResult(
            self,
            id=iid,
            token=token,
            type=type_,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=guild.id if guild else None,
            payload=payload,
            created=time.monotonic(),
            source_message_id=message.id if message else None,
            triggered_by=triggered_by,
        )
        self.interactions[token] = result
        self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=result.guild_id)
        await result.wait(timeout)
        await self.settle(timeout)
        return result


def _reference(msg: Message) -> JSON:
    ref: JSON = {"type": 0, "message_id": msg.id, "channel_id": msg.channel_id}
    if msg.guild_id:
        ref["guild_id"] = msg.guild_id
    return ref


def _fill_modal(components: list[JSON], values: dict[str, str]) -> list[JSON]:
    """Build MODAL_SUBMIT rows from the modal the bot sent, filling text inputs with values."""
    missing = set(values)
    rows: list[JSON] = []
    for comp in components:
        inner = comp.get("components") or ([comp["component"]] if "component" in comp else [])
        filled = []
        for item in inner:
            if item.get("type") != 4:
                continue
            cid = item["custom_id"]
            if item.get("required", True) and cid not in values:
                raise ValueError(f"modal field {cid!r} is required")
            filled.append({"type": 4, "custom_id": cid, "value": values.get(cid, "")})
            missing.discard(cid)
        if comp.get("type") == 18 and filled:
            rows.append({"type": 18, "component": filled[0]})
        elif filled:
            rows.append({"type": 1, "components": filled})
    if missing:
        raise ValueError(f"the modal has no fields {sorted(missing)}")
    return rows
