"""One driver over both fakes: a feature story is written once and told on Discord and on Slack.

The driver only acts as people act in the client (join, say, react, run a slash command, press a
button, fill a form) and reads back what a person would see. Steward runs for real: the App with
its database, the real discord.py or slack-bolt, talking to the fake over loopback.

    async with open_community("slack", database_url=url, features=[...]) as community:
        alice = await community.member_joins("alice")
        seen = await community.slash(community.people["ada"], "steward features")
        assert seen.ephemeral and "onboarding" in seen.text
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.app import App
from bot.config import Config
from bot.core.clock import FakeClock
from bot.core.feature import Feature
from bot.core.ids import Platform
from bot.core.members import Level
from bot.core.parsing import format_duration
from bot.core.registry import Registry
from sandbox.controls import discord_option, option_values
from sandbox.discord.payloads import member as member_payload

CHANNELS = ("general", "welcome", "intros", "mods")
PEOPLE: tuple[tuple[str, Level], ...] = (
    ("olivia", Level.OWNER),
    ("ada", Level.ADMIN),
    ("alice", Level.MEMBER),
    ("bob", Level.MEMBER),
)
DISCORD_MANAGE_GUILD = 1 << 5
_FIELD = re.compile(r"^\*(.+?)\*\n", re.DOTALL)
# Slack reacts by emoji name; the emoji people type most, by the names Slack gives them.
_SLACK_EMOJI = {
    "👍": "+1", "👎": "-1", "❤️": "heart", "🎉": "tada", "😄": "smile", "😂": "joy",
    "👋": "wave", "🙏": "pray", "🔥": "fire", "👀": "eyes", "✅": "white_check_mark",
    "💯": "100", "🙌": "raised_hands", "👏": "clap", "🚀": "rocket",
}  # fmt: skip
_CHANNEL_LINK = re.compile(r"<#(\w+)(?:\|[^>]*)?>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_GROUP_MENTION = re.compile(r"<!subteam\^(\w+)(?:\|@?([^>]*))?>")


@dataclass
class Person:
    """Someone in the community, as the scenario knows them."""

    name: str
    level: Level
    id: str
    account: Any = field(repr=False)


@dataclass
class Posted:
    """A message as people read it in a channel or DM."""

    text: str
    author_id: str
    raw: Any = field(repr=False)


@dataclass
class Seen:
    """What a person saw in answer to a command, a button or a form."""

    texts: list[str]
    ephemeral: bool
    form: dict[str, Any] | None
    raw: Any = field(repr=False)
    messages: list[Any] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        """Everything shown, one message per line."""
        return "\n".join(self.texts)


class Community:
    """The platform-neutral driver; DiscordCommunity and SlackCommunity tell the same stories."""

    platform: str

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self.people: dict[str, Person] = {}

    # -- what both platforms share ------------------------------------------------------------

    async def settle(self) -> None:
        """Wait until the fake and Steward are both quiet (no sleeping on a timer)."""
        activity = self.app.dispatcher.activity
        for _ in range(200):
            await self._fake_settle()
            for _ in range(5):
                await asyncio.sleep(0)
            if activity.busy:
                await asyncio.wait_for(activity.wait_idle(), 10)
                continue
            generation = activity.generation
            await self._fake_settle()
            for _ in range(5):
                await asyncio.sleep(0)
            if activity.busy == 0 and activity.generation == generation:
                return
        raise AssertionError("Steward never became quiet")

    async def advance(self, **delta: float) -> None:
        """Move the clock (``days=3``, ``hours=1``) and run the timers and jobs that came due."""
        self.clock.advance(timedelta(**delta))
        await self.app.timers.run_due()
        await self.app.jobs.run_due()
        await self.settle()

    def offers(self, where: Seen | Posted, action: str) -> bool:
        """Whether what was shown has a button or select with this action."""
        try:
            self._locate(where, action)
        except LookupError:
            return False
        return True

    def _locate(self, where: Seen | Posted, action: str) -> tuple[Any, str]:
        raise NotImplementedError

    def readable(self, text: str) -> str:
        """Text with mentions of people, channels and roles shown by name, as a client does."""
        for person in self.people.values():
            text = re.sub(rf"<@!?{re.escape(person.id)}(\|[^>]*)?>", "@" + person.name, text)
        text = _CHANNEL_LINK.sub(lambda m: "#" + self.channel_name(m.group(1)), text)
        text = _ROLE_MENTION.sub(lambda m: "@" + self.role_name(m.group(1)), text)
        return _GROUP_MENTION.sub(lambda m: "@" + self.role_name(m.group(1)), text)

    def role_name(self, role_id: str) -> str:
        """The name of a role (Discord) or user group (Slack), from its id."""
        return role_id

    def files_of(self, raw: Any) -> list[tuple[str, bytes]]:
        """The files attached to a message (name and bytes), as a person could download them."""
        return []

    def add_role(self, name: str) -> None:
        """A role (Discord) or user group (Slack) that managers can choose in settings."""
        raise NotImplementedError

    def role_names(self) -> list[str]:
        """The roles (user groups) the sandbox made."""
        return []

    def everything_in(self, channel: str) -> list[Posted]:
        """A channel's messages with its thread replies, as someone reading it all sees them."""
        return self.messages_in(channel)

    def posted_order(self, message: Posted) -> str:
        """A key that sorts messages by when they were posted."""
        raw = message.raw
        return str(getattr(raw, "ts", None) or int(getattr(raw, "id", 0))).zfill(24)

    def role_mention(self, name: str) -> str:
        """How the platform writes a mention of the role or user group."""
        raise NotImplementedError

    async def set_role(self, person: Person, name: str, *, has: bool) -> None:
        """Give the person the role (or user group), or take it away."""
        raise NotImplementedError

    async def leaves(self, person: Person) -> None:
        """The person leaves the community."""
        raise LookupError(f"leaving is not something the fake {self.platform} can play yet")

    async def deletes(self, person: Person, message: Posted) -> None:
        """The person deletes their message."""
        raise LookupError(f"deleting is not something the fake {self.platform} can play yet")

    def option_text(self, value: Any) -> str:
        """How a value is typed in a one-line command."""
        if isinstance(value, Person):
            return self.mention(value)
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, timedelta):
            return format_duration(value)
        text = str(value)
        return f'"{text}"' if " " in text and not text.startswith("<") else text

    @property
    def app_platform(self) -> Platform:
        """The platform as the core names it."""
        return "discord" if self.platform == "discord" else "slack"

    # -- platform specifics -------------------------------------------------------------------

    def channel_name(self, channel_id: str) -> str:
        """The name of a channel, from its id."""
        raise NotImplementedError

    def channel_names(self) -> list[str]:
        """The community's channels (not threads), by name."""
        raise NotImplementedError

    def name_of(self, user_id: str) -> str:
        """Who wrote something, as people read it: a person's name, else Steward."""
        return next((p.name for p in self.people.values() if p.id == user_id), "Steward")

    async def _fake_settle(self) -> None:
        raise NotImplementedError

    def mention(self, person: Person) -> str:
        """How the platform writes a mention of this person."""
        return f"<@{person.id}>"

    def channel_mention(self, name: str) -> str:
        """How the platform writes a link to a channel."""
        raise NotImplementedError

    async def member_joins(self, name: str, *, dms_open: bool = True) -> Person:
        """A new person joins the community (``dms_open=False``: Steward can't DM them)."""
        raise NotImplementedError

    def close_dms(self, person: Person) -> None:
        """From now on Steward's DMs to this person fail as the platform fails them.

        Discord: the member doesn't accept DMs from server members (403 on sending).
        Slack: conversations.open answers ``user_not_visible`` (see FakeSlack.close_dms)."""
        raise NotImplementedError

    async def says(self, person: Person, text: str, channel: str = "general") -> Posted:
        """A person posts in a channel."""
        raise NotImplementedError

    async def reacts(self, person: Person, message: Posted, emoji: str) -> None:
        """A person reacts to a message."""
        raise NotImplementedError

    async def slash(self, person: Person, command: str, **options: Any) -> Seen:
        """A person runs ``/feature words`` with options by parameter name."""
        raise NotImplementedError

    async def click(self, person: Person, where: Seen | Posted, action: str) -> Seen:
        """A person presses the button with this action."""
        raise NotImplementedError

    async def select(
        self, person: Person, where: Seen | Posted, action: str, values: Sequence[str]
    ) -> Seen:
        """A person picks options in the select with this action."""
        raise NotImplementedError

    async def submit(self, person: Person, opened: Seen, values: dict[str, str]) -> Seen:
        """A person fills in and sends the form that ``opened`` showed them."""
        raise NotImplementedError

    def messages_in(self, channel: str) -> list[Posted]:
        """Every message in a channel, oldest first."""
        raise NotImplementedError

    def dms_of(self, person: Person) -> list[Posted]:
        """The DMs Steward sent this person."""
        raise NotImplementedError

    def pings_of(self, person: Person) -> list[Posted]:
        """Messages that notified this person."""
        raise NotImplementedError


# ------------------------------------------------------------------------------------- Discord


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
        await self.fake.settle()

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

    async def leaves(self, person: Person) -> None:
        """GUILD_MEMBER_REMOVE."""
        await self.fake.member_leaves(self.guild, person.account)
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

    def pings_of(self, person: Person) -> list[Posted]:
        """Messages that pinged the person, allowed_mentions applied."""
        return [self._posted(m) for m in self.fake.pings_of(person.account)]


# --------------------------------------------------------------------------------------- Slack


def _slack_text(text: str, blocks: list[dict[str, Any]] | None) -> str:
    if not blocks or not any(b.get("type") in ("header", "section") for b in blocks):
        return html.unescape(text)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(block["text"]["text"])
        elif kind == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            for item in block.get("fields", []):
                lines.append(_FIELD.sub(r"\1: ", item["text"], count=1))
    return html.unescape("\n".join(lines))


class SlackCommunity(Community):
    """The story told on the fake Slack, through the real slack-bolt (Socket Mode)."""

    platform = "slack"

    def __init__(self, app: App, clock: FakeClock, fake: Any) -> None:
        super().__init__(app, clock)
        self.fake = fake
        self.channels: dict[str, Any] = {"general": fake.general()}
        self.groups: dict[str, Any] = {}

    def add_role(self, name: str) -> None:
        """A user group (Slack's roles)."""
        self.groups[name] = self.fake.add_usergroup(name, [])

    def role_names(self) -> list[str]:
        """The user groups made for the sandbox."""
        return list(self.groups)

    def everything_in(self, channel: str) -> list[Posted]:
        """Top-level messages and thread replies, oldest first."""
        return [self._posted(m) for m in self.fake.world.messages[self.channels[channel].id]]

    def role_mention(self, name: str) -> str:
        """``<!subteam^S…|@handle>``."""
        return f"<!subteam^{self.groups[name].id}|@{name}>"

    def role_name(self, role_id: str) -> str:
        """The user group's handle."""
        return next((n for n, g in self.groups.items() if g.id == role_id), role_id)

    async def set_role(self, person: Person, name: str, *, has: bool) -> None:
        """The person joins or leaves the user group."""
        group = self.groups[name]
        before = list(group.users)
        if person.id in group.users:
            group.users.remove(person.id)
        if has:
            group.users.append(person.id)
        added = [u for u in group.users if u not in before]
        removed = [u for u in before if u not in group.users]
        await self.fake.deliver_event(
            person.account.team_id,
            {
                "type": "subteam_members_changed",
                "subteam_id": group.id,
                "team_id": person.account.team_id,
                "date_previous_update": 0,
                "date_update": 0,
                "added_users": added,
                "added_users_count": str(len(added)),
                "removed_users": removed,
                "removed_users_count": str(len(removed)),
                "event_ts": self.fake.world.next_ts(),
            },
        )
        await self.settle()

    async def _fake_settle(self) -> None:
        await self.fake.settle()

    def channel_mention(self, name: str) -> str:
        """``<#C…|name>`` as Slack escapes it."""
        return f"<#{self.channels[name].id}|{name}>"

    def channel_name(self, channel_id: str) -> str:
        """The channel's name."""
        return next((n for n, c in self.channels.items() if c.id == channel_id), channel_id)

    def channel_names(self) -> list[str]:
        """The channels the sandbox made."""
        return list(self.channels)

    def files_of(self, raw: Any) -> list[tuple[str, bytes]]:
        """The files shared in the message."""
        data = getattr(raw, "data", None)
        shared = data.get("files", []) if isinstance(data, dict) else []
        found = [self.fake.world.files.get(str(f.get("id"))) for f in shared]
        return [(f.name, f.data or b"") for f in found if f is not None]

    def mention(self, person: Person) -> str:
        """``<@U…>``."""
        return f"<@{person.id}>"

    async def member_joins(self, name: str, *, dms_open: bool = True) -> Person:
        """team_join for a new user."""
        user = await self.fake.member_joins(name, dms_open=dms_open)
        person = Person(name, Level.MEMBER, user.id, user)
        self.people[name] = person
        await self.settle()
        return person

    def close_dms(self, person: Person) -> None:
        """The app may no longer open a DM with the user."""
        self.fake.close_dms(person.account)

    async def says(self, person: Person, text: str, channel: str = "general") -> Posted:
        """A message event in a channel."""
        message = await self.fake.user_says(person.account, self.channels[channel], text)
        await self.settle()
        return Posted(html.unescape(message.text), person.id, message)

    async def reacts(self, person: Person, message: Posted, emoji: str) -> None:
        """reaction_added (Slack names emoji: ``thumbsup``; the common ones are translated)."""
        name = _SLACK_EMOJI.get(emoji, emoji).strip(":")
        if not re.fullmatch(r"[a-z0-9_+'-]+", name):
            raise LookupError(f"on Slack, write the emoji's name (like thumbsup), not {emoji}")
        await self.fake.react(person.account, message.raw, name)
        await self.settle()

    def _command_text(self, command: str, options: dict[str, Any]) -> tuple[str, str]:
        feature, _, words = command.partition(" ")
        spec = self.app.registry.command(feature, words)
        if spec is None:
            raise LookupError(f"no command /{command}")
        text = [words]
        skipped = False  # after a skipped optional parameter, options are typed as name=value
        for param in spec.params:
            if param.name not in options:
                skipped = True
                continue
            value = options[param.name]
            if isinstance(value, str) and value.startswith("#") and value[1:] in self.channels:
                typed = self.channel_mention(value[1:])
            elif isinstance(value, str) and value.startswith("@") and value[1:] in self.groups:
                typed = self.role_mention(value[1:])
            else:
                typed = self.option_text(value)
            if skipped:
                quoted = " " in typed and not typed.startswith('"')
                typed = f'{param.name}="{typed}"' if quoted else f"{param.name}={typed}"
            text.append(typed)
        return f"/{feature}", " ".join(text)

    async def _seen(self, person: Person, outcome: Any) -> Seen:
        await self.settle()
        texts = [_slack_text(s.text, s.blocks) for s in outcome.shown]
        modal = self.fake.modal_of(person.account)
        form = dict(modal.data) if modal is not None else None
        return Seen([t for t in texts if t], outcome.ephemeral, form, outcome, list(outcome.shown))

    async def slash(self, person: Person, command: str, **options: Any) -> Seen:
        """The slash command, typed as one line."""
        name, text = self._command_text(command, options)
        return await self._seen(person, await self.fake.slash(person.account, name, text))

    def _locate(self, where: Seen | Posted, action: str) -> tuple[Any, str]:
        candidates: list[Any]
        if isinstance(where, Posted):
            candidates = [where.raw]
        else:
            candidates = [*self.fake.world.ephemerals[::-1]]
            candidates += [m for name in self.channels for m in self.fake.messages_in(name)[::-1]]
        for source in candidates:
            blocks = source.data.get("blocks") if hasattr(source, "data") else source.blocks
            for block in blocks or []:
                for element in block.get("elements", []):
                    parts = str(element.get("action_id", "")).split(":")
                    if len(parts) >= 3 and parts[2] == action:
                        return source, element["action_id"]
        raise LookupError(f"no component {action!r} in what was shown")

    async def click(self, person: Person, where: Seen | Posted, action: str) -> Seen:
        """block_actions for a button."""
        source, action_id = self._locate(where, action)
        return await self._seen(person, await self.fake.click(person.account, source, action_id))

    async def select(
        self, person: Person, where: Seen | Posted, action: str, values: Sequence[str]
    ) -> Seen:
        """block_actions for a select (options named by value or by label)."""
        source, action_id = self._locate(where, action)
        values = list(values)
        picked: Any = values if len(values) != 1 else values[0]
        for block in source.data.get("blocks", []) if hasattr(source, "data") else source.blocks:
            for element in block.get("elements", []):
                if element.get("action_id") != action_id:
                    continue
                options = [(o["text"]["text"], o["value"]) for o in element.get("options", [])]
                values = option_values(options, values)
                picked = values if element["type"].startswith("multi") else values[0]
        return await self._seen(
            person, await self.fake.select(person.account, source, action_id, picked)
        )

    async def submit(self, person: Person, opened: Seen, values: dict[str, str]) -> Seen:
        """view_submission of the open modal; the answer arrives as an ephemeral message."""
        view = self.fake.modal_of(person.account)
        if view is None:
            raise AssertionError("no form is open for that person")
        before = len(self.fake.ephemerals_of(person.account))
        outcome = await self.fake.submit_view(person.account, view, values)
        await self.settle()
        shown = self.fake.ephemerals_of(person.account)[before:]
        texts = [_slack_text(e.text, e.blocks) for e in shown]
        return Seen([t for t in texts if t], True, None, outcome, list(shown))

    def _posted(self, message: Any) -> Posted:
        return Posted(
            _slack_text(message.text, message.data.get("blocks")), str(message.user), message
        )

    def messages_in(self, channel: str) -> list[Posted]:
        """Messages in a channel, top level and threads."""
        return [self._posted(m) for m in self.fake.messages_in(self.channels[channel])]

    def dms_of(self, person: Person) -> list[Posted]:
        """The IM between the bot and the person."""
        return [self._posted(m) for m in self.fake.dms_of(person.account)]

    def pings_of(self, person: Person) -> list[Posted]:
        """Messages that notified the person."""
        return [
            self._posted(m)
            for m in self.fake.pinging_messages()
            if person.id in m.pings.notified or person.id in m.pings.users
        ]


# ----------------------------------------------------------------------------------- building


def _seed_discord(fake: Any) -> tuple[Any, dict[str, Person], dict[str, Any]]:
    guild = fake.add_guild("Steward Sandbox", owner=fake.owner)
    admins = fake.add_role(guild, "Admins", DISCORD_MANAGE_GUILD, position=1)
    for name in CHANNELS[1:]:
        fake.add_channel(guild, name)
    people: dict[str, Person] = {}
    for name, level in PEOPLE:
        if level is Level.OWNER:
            user = fake.owner
        else:
            user = fake.add_user(name)
            fake.add_member(guild, user, roles=[admins] if level is Level.ADMIN else [])
        people[name] = Person(name, level, user.id, user)
    settings = {
        "discord_token": fake.token,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
    }
    return guild, people, settings


def _seed_slack(fake: Any) -> tuple[dict[str, Any], dict[str, Person], dict[str, Any]]:
    people: dict[str, Person] = {}
    for name, level in PEOPLE:
        user = fake.add_user(name, is_owner=level is Level.OWNER, is_admin=level >= Level.ADMIN)
        people[name] = Person(name, level, user.id, user)
    channels = {"general": fake.general()}
    for name in CHANNELS[1:]:
        channels[name] = fake.add_channel(name, members=[p.account for p in people.values()])
    fake.use_socket_mode()
    settings = {
        "slack_bot_token": fake.bot_token,
        "slack_app_token": fake.app_token,
        "slack_api_base": fake.api_url,
    }
    return channels, people, settings


def _manifest_scopes(features: Sequence[Feature]) -> list[str]:
    """The bot scopes of the manifest `steward slack-manifest` prints for these features."""
    from bot.adapters.slack.manifest import bot_scopes

    return bot_scopes(Registry(features))


async def _start(database_url: str, features: Sequence[Feature], **settings: Any) -> App:
    app = App(
        Config(_env_file=None, database_url=database_url, **settings),
        clock=FakeClock(),
        features=features,
        discord_options={"guild_ready_timeout": 0.05},
    )
    await app.start(background=False)
    return app


def _watch_discord_client(app: App, fake: Any) -> None:
    """Let the fake see how far Steward's discord.py has read, so settling sends nothing."""

    def sequence() -> int | None:
        ws = app.discord.bot.ws
        return None if ws is None else ws.sequence

    fake.client_sequence = sequence


def _discord(app: App, fake: Any, guild: Any, people: dict[str, Person]) -> DiscordCommunity:
    assert isinstance(app.clock, FakeClock)
    _watch_discord_client(app, fake)
    community = DiscordCommunity(app, app.clock, fake, guild)
    community.people.update(people)
    return community


async def _slack(
    app: App, fake: Any, channels: dict[str, Any], people: dict[str, Person]
) -> SlackCommunity:
    assert isinstance(app.clock, FakeClock)
    community = SlackCommunity(app, app.clock, fake)
    community.channels.update(channels)
    community.people.update(people)
    await fake.wait_for(lambda: fake.socket.connected)
    return community


@contextlib.asynccontextmanager
async def open_discord(
    database_url: str, features: Sequence[Feature], *, fake: Any = None
) -> AsyncIterator[DiscordCommunity]:
    """A Discord server with channels and people, and Steward connected to it."""
    from sandbox.discord import FakeDiscord

    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeDiscord())
        guild, people, settings = _seed_discord(fake)
        app = await _start(database_url, features, **settings)
        stack.push_async_callback(app.stop)
        community = _discord(app, fake, guild, people)
        await community.settle()
        yield community


@contextlib.asynccontextmanager
async def open_slack(
    database_url: str, features: Sequence[Feature], *, fake: Any = None
) -> AsyncIterator[SlackCommunity]:
    """A Slack workspace with channels and people, and Steward connected over Socket Mode."""
    from sandbox.slack import FakeSlack

    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeSlack())
        channels, people, settings = _seed_slack(fake)
        fake.grant_bot_scopes(_manifest_scopes(features))
        app = await _start(database_url, features, **settings)
        stack.push_async_callback(app.stop)
        community = await _slack(app, fake, channels, people)
        await community.settle()
        yield community


@contextlib.asynccontextmanager
async def open_both(
    database_url: str, features: Sequence[Feature], *, validate: bool = True
) -> AsyncIterator[tuple[DiscordCommunity, SlackCommunity]]:
    """One Steward process serving a Discord server and a Slack workspace at once.

    ``validate=False`` runs the fakes without checking traffic against the API descriptions
    (for the sandbox on a machine without ../shared; tests always validate).
    """
    from sandbox.discord import FakeDiscord
    from sandbox.slack import FakeSlack

    async with contextlib.AsyncExitStack() as stack:
        discord_fake = await stack.enter_async_context(FakeDiscord(validate=validate))
        slack_fake = await stack.enter_async_context(FakeSlack(validate=validate))
        guild, discord_people, discord_settings = _seed_discord(discord_fake)
        channels, slack_people, slack_settings = _seed_slack(slack_fake)
        slack_fake.grant_bot_scopes(_manifest_scopes(features))
        app = await _start(database_url, features, **discord_settings, **slack_settings)
        stack.push_async_callback(app.stop)
        on_discord = _discord(app, discord_fake, guild, discord_people)
        on_slack = await _slack(app, slack_fake, channels, slack_people)
        await on_discord.settle()
        await on_slack.settle()
        yield on_discord, on_slack


def open_community(
    platform: str, database_url: str, features: Sequence[Feature], *, fake: Any = None
) -> contextlib.AbstractAsyncContextManager[Community]:
    """A community on ``platform`` ("discord" or "slack") with Steward running in it."""
    if platform == "discord":
        return open_discord(database_url, features, fake=fake)
    if platform == "slack":
        return open_slack(database_url, features, fake=fake)
    raise ValueError(f"unknown platform {platform!r}")


async def replies(community: Community, person: Person, to: Posted, text: str) -> Posted:
    """A person answers a message: a reply on Discord, a message in its thread on Slack."""
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        channel = fake.world.channels[to.raw.channel_id]
        message = await fake.user_says(person.account, channel, text, reply_to=to.raw)
        await community.settle()
        return Posted(message.content, person.id, message)
    message = await fake.user_says(
        person.account, to.raw.channel, text, thread_ts=to.raw.thread_ts or to.raw.ts
    )
    await community.settle()
    return Posted(html.unescape(message.text), person.id, message)


async def stop_steward(community: Community) -> None:
    """Steward goes down (the platform keeps running and people keep talking)."""
    await community.app.stop()


async def start_steward(community: Community, features: Sequence[Feature]) -> App:
    """A new Steward process on the same database, fake and clock; the caller stops it."""
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        settings: dict[str, Any] = {
            "discord_token": fake.token,
            "discord_api_base": fake.api_base,
            "discord_gateway_url": fake.gateway_url,
        }
    else:
        settings = {
            "slack_bot_token": fake.bot_token,
            "slack_app_token": fake.app_token,
            "slack_api_base": fake.api_url,
        }
    app = App(
        Config(_env_file=None, database_url=community.app.config.database_url, **settings),
        clock=community.clock,
        features=features,
        discord_options={"guild_ready_timeout": 0.05},
    )
    await app.start(background=False)
    community.app = app
    if isinstance(community, DiscordCommunity):
        _watch_discord_client(app, fake)
    if isinstance(community, SlackCommunity):
        await fake.wait_for(lambda: fake.socket.connected)
    await community.settle()
    return app
