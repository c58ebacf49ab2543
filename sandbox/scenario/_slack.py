"""The scenario told on the fake Slack, through the real slack-bolt (Socket Mode)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from bot.app import App
from bot.core.clock import FakeClock
from bot.core.members import Level
from sandbox.controls import option_values
from sandbox.scenario._community import Community, Person, Posted, Seen

_FIELD = re.compile(r"^\*(.+?)\*\n", re.DOTALL)
# Slack reacts by emoji name; the emoji people type most, by the names Slack gives them.
_SLACK_EMOJI = {
    "👍": "+1", "👎": "-1", "❤️": "heart", "🎉": "tada", "😄": "smile", "😂": "joy",
    "👋": "wave", "🙏": "pray", "🔥": "fire", "👀": "eyes", "✅": "white_check_mark",
    "💯": "100", "🙌": "raised_hands", "👏": "clap", "🚀": "rocket",
}  # fmt: skip


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

    async def starts_thread(self, person: Person, on: Posted, name: str) -> str:
        """On Slack a thread starts with the first reply under the message."""
        raw = on.raw
        await self.fake.user_says(
            person.account, raw.channel, name, thread_ts=raw.thread_ts or raw.ts
        )
        await self.settle()
        return f"thread under {self.name_of(on.author_id)}'s message, starting '{name}'"

    async def leaves(self, person: Person) -> None:
        """A workspace admin deactivates the account: ``user_change`` with ``deleted``."""
        user = person.account
        user.deleted = True
        await self.fake.deliver_event(
            user.team_id,
            {"type": "user_change", "user": user.to_api(), "event_ts": self.fake.world.next_ts()},
        )
        await self.settle()

    async def rejoins(self, person: Person) -> None:
        """A workspace admin reactivates the account: ``user_change`` without ``deleted``."""
        user = person.account
        user.deleted = False
        await self.fake.deliver_event(
            user.team_id,
            {"type": "user_change", "user": user.to_api(), "event_ts": self.fake.world.next_ts()},
        )
        await self.settle()

    async def deletes(self, person: Person, message: Posted) -> None:
        """The author deletes the message: ``message`` with subtype ``message_deleted``."""
        raw = message.raw
        stored = self.fake.world.messages[raw.channel]
        stored.remove(raw)
        self.fake.world.deleted.append(raw)
        await self.fake.deliver_event(
            person.account.team_id,
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "channel": raw.channel,
                "ts": self.fake.world.next_ts(),
                "deleted_ts": raw.ts,
                "previous_message": dict(raw.data),
                "event_ts": self.fake.world.next_ts(),
            },
        )
        await self.settle()

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

    async def message_action(self, person: Person, message: Posted, menu: str) -> Seen:
        """The message shortcut named ``menu`` in Steward's manifest, run on the message."""
        from bot.adapters.slack.manifest import shortcuts

        declared = {s["name"]: s["callback_id"] for s in shortcuts(self.app.registry)}
        if menu not in declared:
            raise LookupError(f"Steward's manifest declares no shortcut {menu!r}: {declared}")
        outcome = await self.fake.message_shortcut(person.account, message.raw, declared[menu])
        return await self._seen(person, outcome)

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

    def groups_of(self, person: Person) -> list[list[Posted]]:
        """The group DMs (mpim) the person is in."""
        world = self.fake.world
        return [
            [self._posted(m) for m in world.messages[c.id]]
            for c in world.channels.values()
            if c.is_mpim and person.id in c.members
        ]

    def pings_of(self, person: Person) -> list[Posted]:
        """Messages that notified the person."""
        return [
            self._posted(m)
            for m in self.fake.pinging_messages()
            if person.id in m.pings.notified or person.id in m.pings.users
        ]
