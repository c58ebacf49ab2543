"""The fake's world: teams, users, conversations, messages, views, files, user groups."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .mentions import Pings, find_pings, notified_users

APP_ID = "A0STEWARD01"
BASE_EPOCH = 1_700_000_000
DEFAULT_BOT_SCOPES = (
    "app_mentions:read,channels:history,channels:join,channels:manage,channels:read,chat:write,"
    "commands,files:read,files:write,groups:history,groups:read,groups:write,im:history,im:read,"
    "im:write,mpim:read,mpim:write,reactions:read,reactions:write,team:read,usergroups:read,"
    "usergroups:write,users:read,users:read.email"
)


@dataclass(slots=True)
class Team:
    """A workspace with the app installed: its bot user and tokens."""

    id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    bot_token: str
    created: int

    def to_api(self) -> dict[str, Any]:
        """The team object as team.info returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": f"{self.domain}.example",
            "icon": {"image_default": True, "image_34": "https://a.slack-edge.test/t34.png"},
        }


@dataclass(slots=True)
class User:
    """A person (or bot user) in a team."""

    id: str
    team_id: str
    name: str
    real_name: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    bot_id: str | None = None
    email: str | None = None
    tz: str = "Europe/London"
    updated: int = BASE_EPOCH

    def to_api(self) -> dict[str, Any]:
        """The user object as users.info returns it (objs_user)."""
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "avatar_hash": "g0000000000a",
            "title": "",
            "phone": "",
            "skype": "",
            "status_text": "",
            "status_emoji": "",
            "fields": None,
            "team": self.team_id,
            "image_48": "https://a.slack-edge.test/u48.png",
        }
        if self.email and not self.is_bot:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = APP_ID
            profile["always_active"] = True
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": self.updated,
        }


@dataclass(slots=True)
class Channel:
    """A conversation: public or private channel, IM or MPIM."""

    id: str
    team_id: str
    name: str
    creator: str
    created: int
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    is_archived: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    im_user: str | None = None

    @property
    def channel_type(self) -> str:
        """The event field `channel_type`: channel, group, im or mpim."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"

    def to_api(self, viewer: str | None = None) -> dict[str, Any]:
        """The conversation object (objs_conversation) as seen by `viewer`."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "priority": 0,
                "is_archived": self.is_archived,
                "is_open": True,
            }
        block = {"value": "", "creator": "", "last_set": 0}
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_general": self.is_general,
            "is_mpim": self.is_mpim,
            "is_im": False,
            "is_private": self.is_private,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "topic": dict(block, value=self.topic),
            "purpose": dict(block, value=self.purpose),
            "num_members": len(self.members),
        }
        if viewer is not None:
            data["is_member"] = viewer in self.members
        return data


@dataclass(slots=True)
class StoredMessage:
    """A message as Slack stores it (`data`, the wire shape) plus what the fake noted."""

    channel: str
    data: dict[str, Any]
    pings: Pings = field(default_factory=Pings)
    options: dict[str, Any] = field(
        default_factory=dict
    )  # unfurl_links, unfurl_media, link_names, parse
    via: str = "api"  # api | response_url | ack | user

    @property
    def ts(self) -> str:
        """The message timestamp, its identity within the channel."""
        return str(self.data["ts"])

    @property
    def text(self) -> str:
        """The top-level `text` field."""
        return str(self.data.get("text", ""))

    @property
    def user(self) -> str | None:
        """Author user id."""
        return self.data.get("user")

    @property
    def thread_ts(self) -> str | None:
        """Parent ts when this is a thread reply or parent."""
        return self.data.get("thread_ts")

    @property
    def is_reply(self) -> bool:
        """Whether this message lives inside a thread (and is not its parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """Block Kit blocks, if any."""
        return list(self.data.get("blocks") or [])

    @property
    def reactions(self) -> dict[str, list[str]]:
        """Reaction name -> user ids."""
        return {r["name"]: list(r["users"]) for r in self.data.get("reactions", [])}

    @property
    def rendered(self) -> str:
        """Text plus every text object in the blocks: roughly what a person reads in the client."""
        return "\n".join([self.text, *block_texts(self.blocks)]).strip()


@dataclass(slots=True)
class Ephemeral:
    """A message only one user sees."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    ts: str
    via: str  # chat.postEphemeral | ack | response_url | error
    thread_ts: str | None = None
    pings: Pings = field(default_factory=Pings)

    @property
    def rendered(self) -> str:
        """Text plus block texts."""
        return "\n".join([self.text, *block_texts(self.blocks or [])]).strip()


@dataclass(slots=True)
class View:
    """A modal or an App Home tab."""

    id: str
    team_id: str
    user: str
    data: dict[str, Any]

    @property
    def type(self) -> str:
        """modal or home."""
        return str(self.data.get("type"))

    @property
    def callback_id(self) -> str:
        """The view's callback_id."""
        return str(self.data.get("callback_id", ""))

    @property
    def rendered(self) -> str:
        """Every text in the view's blocks."""
        return "\n".join(block_texts(self.data.get("blocks") or []))


@dataclass(slots=True)
class StoredFile:
    """An uploaded file and its bytes."""

    id: str
    team_id: str
    user: str
    name: str
    title: str
    length: int
    data: bytes | None = None
    channels: list[str] = field(default_factory=list)
    created: int = BASE_EPOCH

    def to_api(self) -> dict[str, Any]:
        """The file object (objs_file)."""
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title,
            "mimetype": "application/octet-stream",
            "filetype": self.name.rsplit(".", 1)[-1] if "." in self.name else "binary",
            "pretty_type": "Binary",
            "user": self.user,
            "editable": False,
            "size": len(self.data) if self.data is not None else self.length,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": any(c.startswith("C") for c in self.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"https://files.slack.test/files-pri/{self.team_id}-{self.id}/{self.name}",
            "permalink": f"https://fake.slack.test/files/{self.user}/{self.id}/{self.name}",
            # Slack lists shares by kind: public channels, private channels (G), and DMs (D).
            "channels": [c for c in self.channels if c.startswith("C")],
            "groups": [c for c in self.channels if c.startswith("G")],
            "ims": [c for c in self.channels if c.startswith("D")],
            "comments_count": 0,
        }


@dataclass(slots=True)
class UserGroup:
    """A user group (`subteam`), Slack's nearest thing to a role."""

    id: str
    team_id: str
    name: str
    handle: str
    description: str
    created_by: str
    users: list[str] = field(default_factory=list)
    date_create: int = BASE_EPOCH

    def to_api(self, *, include_users: bool = True) -> dict[str, Any]:
        """The user group object (objs_subteam)."""
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": self.date_create,
            "date_update": self.date_create,
            "date_delete": 0,
            "auto_type": None,
            "auto_provision": False,
            "enterprise_subteam_id": "",
            "created_by": self.created_by,
            "updated_by": self.created_by,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
        }
        if include_users:
            data["users"] = list(self.users)
        return data


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a token speaks for."""

    token: str
    kind: str  # bot | user | app
    team_id: str
    user_id: str
    bot_id: str | None
    scopes: str


def block_texts(blocks: Any) -> list[str]:
    """Every `text` string inside blocks, in document order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            text = node.get("text")
            if isinstance(text, str):
                out.append(text)
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)

    walk(blocks)
    return out


class World:
    """All state of the fake, with deterministic id and ts counters."""

    def __init__(self) -> None:
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[StoredMessage]] = {}
        self.deleted: list[StoredMessage] = []
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.modal_stacks: dict[str, list[str]] = {}  # user id -> view ids, root first
        self.home_views: dict[str, str] = {}  # user id -> view id
        self.files: dict[str, StoredFile] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.tokens: dict[str, Identity] = {}
        # user id -> the error conversations.open answers the app for them (see close_dms)
        self.dms_closed: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        # When set (FakeSlack.follow_clock), message timestamps are read from this clock.
        self.clock: Callable[[], float] | None = None
        self._last_us = 0

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id (`C000000001A`) that satisfies the spec's id patterns."""
        return f"{prefix}{next(self._ids):09d}A"

    def counters(self) -> dict[str, int]:
        """Where the id and timestamp counters stand, for a world rebuilt to go on from here."""
        return {"ids": next(self._ids), "ts": next(self._ts), "us": self._last_us}

    def continue_from(self, counters: dict[str, int]) -> None:
        """Hand out ids and timestamps after those of ``counters`` (never one used before)."""
        self._ids = itertools.count(max(int(counters["ids"]), next(self._ids)))
        self._ts = itertools.count(max(int(counters["ts"]), next(self._ts)))
        self._last_us = max(int(counters["us"]), self._last_us)

    def next_ts(self) -> str:
        """A unique, increasing message timestamp.

        By default counted up from BASE_EPOCH; after ``follow_clock`` the clock's time, a
        microsecond later than the previous one when the clock has not moved (as Slack's are).
        """
        n = next(self._ts)
        if self.clock is None:
            return f"{BASE_EPOCH + n}.{n:06d}"
        us = max(round(self.clock() * 1_000_000), self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    @staticmethod
    def now() -> int:
        """Unix time in seconds (wall clock; Bolt's signature check reads it too)."""
        return int(time.time())

    # ------------------------------------------------------------------ lookups
    def find_message(self, channel: str, ts: str) -> StoredMessage | None:
        """The message with this ts in this channel, thread replies included."""
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def im_with(self, bot_user: str, user: str) -> Channel | None:
        """The IM between the bot and a user, if open."""
        return next(
            (
                c
                for c in self.channels.values()
                if c.is_im and c.im_user == user and bot_user in c.members
            ),
            None,
        )

    def user_by_name(self, team_id: str, name: str) -> User | None:
        """A user found by handle, as link_names resolves `@name`."""
        return next(
            (u for u in self.users.values() if u.team_id == team_id and u.name == name), None
        )

    def compute_pings(
        self,
        channel: Channel,
        author: str | None,
        text: str,
        blocks: Any,
        attachments: Any,
        *,
        link_names: bool = False,
    ) -> Pings:
        """Who a message with this content would ping in this channel."""

        def resolve(name: str) -> tuple[str, str] | None:
            user = self.user_by_name(channel.team_id, name)
            if user is not None:
                return ("user", user.id)
            group = next(
                (
                    g
                    for g in self.usergroups.values()
                    if g.team_id == channel.team_id and g.handle == name
                ),
                None,
            )
            return ("usergroup", group.id) if group else None

        users, broadcasts, groups = find_pings(
            text, blocks, attachments, link_names=link_names, resolve_name=resolve
        )

        def members(gid: str) -> list[str]:
            group = self.usergroups.get(gid)
            return list(group.users) if group else []

        notified = notified_users(
            users,
            broadcasts,
            groups,
            channel_members=channel.members,
            group_members=members,
            author=author,
        )
        return Pings(frozenset(users), frozenset(broadcasts), frozenset(groups), notified)
