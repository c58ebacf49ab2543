"""The scenario told on the fake Discord, through the real discord.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.app import App
from bot.core.clock import FakeClock
from bot.core.members import Level
from bot.core.parsing import format_duration
from sandbox.controls import discord_option, option_values
from sandbox.discord.payloads import member as member_payload
from sandbox.discord.state import PRIVATE_THREAD
from sandbox.scenario._community import Community, Person, Posted, Seen


def _discord_text(message: Any) -> str:
    parts = [] if message.content in ("", "\u200b") else [message.content]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


class DiscordCommunity(Community):
    """The story told on the fake Discord, through the real discord.py."""

    platform = "discord"

    def __init__(self, app: App, clock: FakeClock, fake: Any, guild: Any) -> None:
        super().__init__(app, clock)
        self.fake = fake
        self.guild = guild
        self.roles: dict[str, Any] = {}

    async def _fake_settle(self) -> None:
        # As long as the fake Slack's: a burst of 60 joins on a loaded machine outlasted 5 s
        # (a test of the storm failed "bot did not settle" with its welcomes still going out).
        await self.fake.settle(timeout=10.0)

    def channel_mention(self, name: str) -> str:
        """``<#id>``."""
        return f"<#{self.guild.channel_named(name).id}>"

    def channel_name(self, channel_id: str) -> str:
        """The guild channel's name."""
        channel = self.fake.world.channels.get(channel_id)
        return str(channel.name) if channel is not None else channel_id

    def channel_names(self) -> list[str]:
        """The guild's text channels."""
        return [str(c.name) for c in self.guild.channels.values() if c.type == 0]

    def role_name(self, role_id: str) -> str:
        """The guild role's name."""
        role = self.guild.roles.get(role_id)
        return str(role.name) if role is not None else role_id

    def add_role(self, name: str) -> None:
        """A mentionable guild role."""
        self.roles[name] = self.fake.add_role(self.guild, name, mentionable=True, position=1)

    def role_names(self) -> list[str]:
        """The roles made for the sandbox."""
        return list(self.roles)

    def role_mention(self, name: str) -> str:
        """``<@&id>``."""
        return f"<@&{self.roles[name].id}>"

    async def set_role(self, person: Person, name: str, *, has: bool) -> None:
        """GUILD_MEMBER_UPDATE with the role added or removed."""
        member = self.guild.members[person.id]
        role_id = self.roles[name].id
        member.roles = [r for r in member.roles if r != role_id] + ([role_id] if has else [])
        self.fake.dispatch(
            "GUILD_MEMBER_UPDATE",
            {**member_payload(self.fake.world, member), "guild_id": self.guild.id},
        )
        await self.settle()

    async def starts_thread(self, person: Person, on: Posted, name: str) -> str:
        """A public thread under the message's channel (THREAD_CREATE)."""
        parent = self.fake.world.channels[on.raw.channel_id]
        self.fake.add_channel(self.guild, name, type=11, parent=parent, owner=person.account)
        await self.settle()
        return f"thread '{name}' in #{parent.name}"

    async def leaves(self, person: Person) -> None:
        """GUILD_MEMBER_REMOVE."""
        await self.fake.member_leaves(self.guild, person.account)
        await self.settle()

    async def rejoins(self, person: Person) -> None:
        """GUILD_MEMBER_ADD for someone who was here before (refused while banned)."""
        await self.fake.member_joins(self.guild, person.account)
        await self.settle()

    async def deletes(self, person: Person, message: Posted) -> None:
        """MESSAGE_DELETE."""
        await self.fake.user_deletes(message.raw)
        await self.settle()

    def files_of(self, raw: Any) -> list[tuple[str, bytes]]:
        """The message's attachments."""
        return [
            (str(a.get("filename") or "file"), self.fake.attachments.get(str(a.get("id")), b""))
            for a in getattr(raw, "attachments", None) or []
        ]

    async def member_joins(self, name: str, *, dms_open: bool = True) -> Person:
        """GUILD_MEMBER_ADD for a new user."""
        user = self.fake.add_user(name, dms_open=dms_open)
        await self.fake.member_joins(self.guild, user)
        person = Person(name, Level.MEMBER, user.id, user)
        self.people[name] = person
        await self.settle()
        return person

    def close_dms(self, person: Person) -> None:
        """The user stops accepting DMs from server members."""
        person.account.dms_open = False

    async def says(self, person: Person, text: str, channel: str = "general") -> Posted:
        """MESSAGE_CREATE in a channel."""
        message = await self.fake.user_says(person.account, self.guild.channel_named(channel), text)
        await self.settle()
        return Posted(message.content, person.id, message)

    async def reacts(self, person: Person, message: Posted, emoji: str) -> None:
        """MESSAGE_REACTION_ADD."""
        await self.fake.react(person.account, message.raw, emoji)
        await self.settle()

    def _options(self, command: str, options: dict[str, Any]) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        for name, value in options.items():
            if isinstance(value, Person):
                converted[name] = value.account
            elif isinstance(value, timedelta):
                converted[name] = format_duration(value)
            elif isinstance(value, str) and value.startswith("#") and " " not in value:
                converted[name] = self.guild.channel_named(value[1:])
            elif isinstance(value, str) and value.startswith("@") and value[1:] in self.roles:
                converted[name] = self.roles[value[1:]]
            else:
                converted[name] = value
        return converted

    async def _seen(self, result: Any) -> Seen:
        await result.wait()
        await self.settle()
        messages = [m for m in ([result.message] if result.message else []) if not m.deleted]
        messages += [m for m in result.followups if not m.deleted]
        texts = [_discord_text(m) for m in messages]
        ephemeral = all(m.ephemeral for m in messages) if messages else False
        return Seen([t for t in texts if t], ephemeral, result.modal, result, messages)

    async def slash(self, person: Person, command: str, **options: Any) -> Seen:
        """INTERACTION_CREATE for the synced command."""
        result = await self.fake.invoke_slash(
            person.account, self.guild, command, **self._options(command, options)
        )
        return await self._seen(result)

    def _locate(self, where: Seen | Posted, action: str) -> tuple[Any, str]:
        messages = where.messages if isinstance(where, Seen) else [where.raw]
        for message in messages:
            for custom_id in message.custom_ids():
                parts = custom_id.split(":")
                if len(parts) >= 3 and parts[2] == action:
                    return message, custom_id
        raise LookupError(f"no component {action!r} in what was shown")

    async def message_action(self, person: Person, message: Posted, menu: str) -> Seen:
        """INTERACTION_CREATE for the synced message context-menu command."""
        result = await self.fake.invoke_message_command(person.account, menu, message.raw)
        return await self._seen(result)

    async def click(self, person: Person, where: Seen | Posted, action: str) -> Seen:
        """A button press."""
        message, custom_id = self._locate(where, action)
        return await self._seen(await self.fake.click(person.account, message, custom_id))

    async def select(
        self, person: Person, where: Seen | Posted, action: str, values: Sequence[str]
    ) -> Seen:
        """A select pick (options named by value or by label)."""
        message, custom_id = self._locate(where, action)
        options: list[tuple[str, str]] = []
        stack = list(message.components)
        while stack:
            item = stack.pop()
            stack += item.get("components", [])
            if item.get("custom_id") == custom_id:
                options = [(discord_option(o), o["value"]) for o in item.get("options", [])]
        picked = option_values(options, list(values))
        result = await self.fake.select(person.account, message, custom_id, picked)
        return await self._seen(result)

    async def submit(self, person: Person, opened: Seen, values: dict[str, str]) -> Seen:
        """A modal submission."""
        return await self._seen(await self.fake.submit_modal(person.account, opened.raw, values))

    def _posted(self, message: Any) -> Posted:
        return Posted(_discord_text(message), message.author_id, message)

    def messages_in(self, channel: str) -> list[Posted]:
        """Non-ephemeral messages in a channel."""
        found = self.fake.messages_in(self.guild.channel_named(channel))
        return [self._posted(m) for m in found if not m.ephemeral and not m.deleted]

    def dms_of(self, person: Person) -> list[Posted]:
        """The DM channel between the bot and the person (answers shown only to them, as to a
        press in the DM, are not DMs: Slack keeps those apart too)."""
        return [self._posted(m) for m in self.fake.dms_of(person.account) if not m.ephemeral]

    def groups_of(self, person: Person) -> list[list[Posted]]:
        """The private threads the person was added to, as they see them."""
        world = self.fake.world
        return [
            [self._posted(m) for m in self.fake.sees(person.account, c) if not m.ephemeral]
            for c in world.channels.values()
            if c.type == PRIVATE_THREAD and person.id in c.thread_members
        ]

    def pings_of(self, person: Person) -> list[Posted]:
        """Messages that pinged the person, allowed_mentions applied."""
        return [self._posted(m) for m in self.fake.pings_of(person.account)]
