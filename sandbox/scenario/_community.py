"""What a scenario knows of people and what they saw, and the driver both platforms share."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.app import App
from bot.core.clock import FakeClock
from bot.core.ids import Platform
from bot.core.members import Level
from bot.core.parsing import format_duration

CHANNELS = ("general", "welcome", "intros", "mods")
PEOPLE: tuple[tuple[str, Level], ...] = (
    ("olivia", Level.OWNER),
    ("ada", Level.ADMIN),
    ("alice", Level.MEMBER),
    ("bob", Level.MEMBER),
)
DISCORD_MANAGE_GUILD = 1 << 5
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
                before = (activity.busy, activity.generation)
                try:
                    await asyncio.wait_for(activity.wait_idle(), 10)
                except TimeoutError:
                    # A burst is handled a few events at a time: only 10 s with no progress
                    # at all means Steward is stuck.
                    if (activity.busy, activity.generation) == before:
                        raise
                continue
            generation = activity.generation
            await self._fake_settle()
            for _ in range(5):
                await asyncio.sleep(0)
            if activity.busy == 0 and activity.generation == generation:
                return
        raise AssertionError("Steward never became quiet")

    async def configure(self, feature: str, **values: str) -> None:
        """An admin (ada) sets settings with /steward settings set, each confirmed."""
        ada = self.people["ada"]
        for key, value in values.items():
            done = await self.slash(
                ada, "steward settings set", feature=feature, key=key, value=value
            )
            if "is now" not in done.text:
                raise AssertionError(f"{feature} {key} = {value}: {done.text}")

    async def advance(self, **delta: float) -> None:
        """Move the clock (``days=3``, ``hours=1``) and run the timers and jobs that came due."""
        self.clock.advance(timedelta(**delta))
        await self.app.timers.run_due()
        await self.app.dispatcher.kept.settle()
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

    async def starts_thread(self, person: Person, on: Posted, name: str) -> str:
        """The person starts a thread on a message; returns how the thread is named."""
        raise NotImplementedError

    async def leaves(self, person: Person) -> None:
        """The person leaves the community."""
        raise LookupError(f"leaving is not something the fake {self.platform} can play yet")

    async def rejoins(self, person: Person) -> None:
        """The person comes back after leaving (Discord: joins again; Slack: the account is
        reactivated)."""
        raise LookupError(f"coming back is not something the fake {self.platform} can play yet")

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

    async def message_action(self, person: Person, message: Posted, menu: str) -> Seen:
        """Pick ``menu`` in a message's menu (Discord: Apps; Slack: More actions)."""
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

    def groups_of(self, person: Person) -> list[list[Posted]]:
        """The private group conversations this person is in (Slack group DMs, Discord private
        threads), each as its messages, oldest first."""
        raise NotImplementedError
