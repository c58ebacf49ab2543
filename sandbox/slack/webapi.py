"""Web API method handlers: merged arguments and caller identity in, world mutated."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import scopes
from .state import (
    APP_ID,
    Channel,
    Identity,
    StoredMessage,
    Team,
    View,
    World,
)

Handler = Callable[["WebApi", "Call"], dict[str, Any]]
Emit = Callable[[str, dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
_EMOJI = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-\d)?$")
MAX_TEXT = 40_000


class ApiError(Exception):
    """A Slack error code answered as HTTP 200 `{"ok": false, "error": code}`."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass(slots=True)
class Call:
    """One Web API call after authentication."""

    method: str
    args: dict[str, Any]
    who: Identity

    def get(self, name: str, default: Any = None) -> Any:
        """An argument, or `default` when absent or empty."""
        value = self.args.get(name)
        return default if value in (None, "") else value

    def need(self, name: str, error: str = "invalid_arguments") -> Any:
        """An argument that must be present."""
        value = self.get(name)
        if value is None:
            raise ApiError(error)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean argument in any of Slack's encodings."""
        value = self.args.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"1", "true"}

    def json_arg(self, name: str) -> Any:
        """A structured argument sent either as JSON or as a JSON string."""
        value = self.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ApiError("invalid_arguments") from exc
        return value

    def ids(self, name: str) -> list[str]:
        """A comma-separated id list (lists are comma-joined by slack_sdk)."""
        value = self.get(name, "")
        if isinstance(value, list):
            return [str(v) for v in value]
        return [v.strip() for v in str(value).split(",") if v.strip()]


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for a Web API method."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


def implemented_methods() -> list[str]:
    """Every Web API method the fake answers."""
    return sorted(_HANDLERS)


@dataclass(slots=True)
class Trigger:
    """A trigger_id handed out with an interaction: one use, within its time to live."""

    user: str
    team_id: str
    issued: float
    used: bool = False


@dataclass
class WebApi:
    """Answers Web API methods against the world; side-effect events go through `emit`."""

    world: World
    emit: Emit
    base_url: Callable[[], str]
    trigger_ttl: float = 3.0
    echo_bot_messages: bool = True
    triggers: dict[str, Trigger] = field(default_factory=dict)
    tickets: set[str] = field(default_factory=set)
    on_upload: Callable[[], Awaitable[None]] | None = None
    defects: list[str] = field(default_factory=list)  # the server reports them as violations

    def call(self, call: Call) -> dict[str, Any]:
        """Run one method; unknown methods answer unknown_method like Slack does."""
        handler = _HANDLERS.get(call.method)
        if handler is None:
            raise ApiError("unknown_method")
        if call.method == "apps.connections.open" and call.who.kind != "app":
            raise ApiError("invalid_auth")
        if call.method != "apps.connections.open" and call.who.kind == "app":
            raise ApiError("not_allowed_token_type")
        if call.who.kind == "bot":
            self._check_scopes(call)
        return handler(self, call)

    def _check_scopes(self, call: Call) -> None:
        """Slack refuses a call whose token lacks the method's documented scope."""
        granted = {s.strip() for s in call.who.scopes.split(",")}

        def kind_of(channel_id: str) -> str | None:
            found = self.world.channels.get(channel_id)
            return found.channel_type if found is not None else None

        for scope in scopes.needed(call.method, call.args, kind_of):
            if scope not in granted:
                raise ApiError("missing_scope", needed=scope, provided=call.who.scopes)

    # ------------------------------------------------------------------ helpers
    def team(self, call: Call) -> Team:
        """The caller's team."""
        return self.world.teams[call.who.team_id]

    def issue_trigger(self, user: str, team_id: str) -> str:
        """A fresh trigger_id for an interaction."""
        tid = f"{int(time.time())}.{len(self.triggers) + 1}.{uuid.uuid4().hex[:16]}"
        self.triggers[tid] = Trigger(user, team_id, time.monotonic())
        return tid

    def _use_trigger(self, trigger_id: str) -> Trigger:
        trig = self.triggers.get(trigger_id)
        if trig is None:
            raise ApiError("invalid_trigger_id")
        if trig.used:
            raise ApiError("exchanged_trigger_id")
        if time.monotonic() - trig.issued > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        trig.used = True
        return trig

    def visible_channel(self, call: Call, channel_id: Any) -> Channel:
        """A conversation the caller can see, else channel_not_found."""
        ch = self.world.channels.get(str(channel_id or ""))
        if ch is None or ch.team_id != call.who.team_id:
            raise ApiError("channel_not_found")
        if (ch.is_private or ch.is_im or ch.is_mpim) and call.who.user_id not in ch.members:
            raise ApiError("channel_not_found")
        return ch

    def resolve_post_target(self, call: Call, target: Any) -> Channel:
        """chat.* accept a conversation id, a user id (the app DM) or a channel name."""
        target = str(target or "")
        user = self.world.users.get(target)
        if user is not None and user.team_id == call.who.team_id:
            # No DM with a deactivated account (conversations.open says user_disabled), nor
            # with a person the app may no longer DM: chat.postMessage lists neither error.
            if user.deleted or (target in self.world.dms_closed and call.who.kind == "bot"):
                raise ApiError("channel_not_found")
            return self.open_im(call.who, target)[0]
        by_name = next(
            (
                c
                for c in self.world.channels.values()
                if c.team_id == call.who.team_id and not c.is_im and c.name == target.lstrip("#")
            ),
            None,
        )
        found = self.visible_channel(call, by_name.id if by_name else target)
        if found.is_im and found.im_user in self.world.dms_closed and call.who.kind == "bot":
            raise ApiError("channel_not_found")
        return found

    def open_im(self, who: Identity, user_id: str) -> tuple[Channel, bool]:
        """The IM between the caller and a user, created on first use."""
        existing = self.world.im_with(who.user_id, user_id)
        if existing is not None:
            return existing, False
        ch = Channel(
            id=self.world.new_id("D"),
            team_id=who.team_id,
            name=user_id,
            creator=who.user_id,
            created=self.world.now(),
            is_private=True,
            is_im=True,
            members=[who.user_id, user_id] if who.user_id != user_id else [user_id],
            im_user=user_id,
        )
        self.world.channels[ch.id] = ch
        self.world.messages[ch.id] = []
        return ch, True

    def message_event(self, ch: Channel, msg: StoredMessage) -> dict[str, Any]:
        """The `message` event Slack sends for a stored message."""
        ev = {k: v for k, v in msg.data.items() if k not in {"reactions", "reply_users"}}
        ev.update(channel=ch.id, event_ts=msg.ts, channel_type=ch.channel_type)
        return ev

    def bot_message(self, call: Call, ch: Channel, text: str) -> dict[str, Any]:
        """The wire shape of a message posted with the caller's token."""
        data: dict[str, Any] = {
            "type": "message",
            "text": text,
            "user": call.who.user_id,
            "ts": self.world.next_ts(),
            "team": call.who.team_id,
        }
        if call.who.kind == "bot":
            team = self.team(call)
            data.update(
                bot_id=team.bot_id,
                app_id=APP_ID,
                bot_profile={
                    "id": team.bot_id,
                    "deleted": False,
                    "name": self.world.users[team.bot_user_id].name,
                    "updated": team.created,
                    "app_id": APP_ID,
                    "icons": {
                        f"image_{n}": f"https://a.slack-edge.test/bot{n}.png" for n in (36, 48, 72)
                    },
                    "team_id": team.id,
                },
            )
        return data

    def post(self, call: Call, ch: Channel, *, via: str = "api") -> StoredMessage:
        """Store a message posted by the caller (chat.postMessage and in_channel responses)."""
        text = str(call.get("text", ""))
        blocks = call.json_arg("blocks")
        attachments = call.json_arg("attachments")
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        if len(text) > MAX_TEXT:
            raise ApiError("msg_too_long")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50):
            raise ApiError("invalid_blocks")
        data = self.bot_message(call, ch, text)
        if blocks:
            data["blocks"] = blocks
        if attachments:
            data["attachments"] = attachments
        metadata = call.json_arg("metadata")
        if metadata:
            data["metadata"] = checked_metadata(metadata)
        parent = None
        thread_ts = call.get("thread_ts")
        if thread_ts is not None:
            parent = self.world.find_message(ch.id, str(thread_ts))
            if parent is None:
                # Slack does not thread it: a reply meant for a thread lands where nobody
                # following the thread looks. For the app that sent it, that is a defect.
                self.defects.append(f"thread_ts {thread_ts} names no message in {ch.id}")
            else:
                root = parent.thread_ts or parent.ts
                parent = self.world.find_message(ch.id, root) or parent
                data["thread_ts"] = root
                data["parent_user_id"] = parent.user
                if call.flag("reply_broadcast"):
                    data["subtype"] = "thread_broadcast"
        link_names = call.flag("link_names") or call.get("parse") == "full"
        msg = StoredMessage(
            channel=ch.id,
            data=data,
            pings=self.world.compute_pings(
                ch, call.who.user_id, text, blocks, attachments, link_names=link_names
            ),
            options={
                k: call.args[k]
                for k in (
                    "unfurl_links",
                    "unfurl_media",
                    "link_names",
                    "parse",
                    "mrkdwn",
                    "username",
                )
                if k in call.args
            },
            via=via,
        )
        self.world.messages[ch.id].append(msg)
        if parent is not None:
            self.add_reply(parent, msg)
        if self.echo_bot_messages:
            self.emit(ch.team_id, self.message_event(ch, msg))
        return msg

    @staticmethod
    def add_reply(parent: StoredMessage, reply: StoredMessage) -> None:
        """Update a thread parent's reply_count, reply_users and latest_reply."""
        pdata = parent.data
        pdata["thread_ts"] = parent.ts
        pdata["reply_count"] = int(pdata.get("reply_count", 0)) + 1
        users = list(pdata.get("reply_users", []))
        if reply.user and reply.user not in users:
            users.append(reply.user)
        pdata["reply_users"] = users
        pdata["reply_users_count"] = len(users)
        pdata["latest_reply"] = reply.ts

    def new_view(self, team_id: str, user: str, raw: Any, *, root: str | None = None) -> View:
        """Store a view (modal or home) the way views.* echo it back."""
        if not isinstance(raw, dict) or raw.get("type") not in {"modal", "home"}:
            raise ApiError("invalid_arguments")
        vid = self.world.new_id("V")
        team = self.world.teams[team_id]
        data = dict(raw)
        data.update(
            id=vid,
            team_id=team_id,
            state={"values": {}},
            hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            root_view_id=root or vid,
            previous_view_id=None,
            app_id=APP_ID,
            app_installed_team_id=team_id,
            bot_id=team.bot_id,
        )
        for key, default in (("private_metadata", ""), ("callback_id", ""), ("external_id", "")):
            data.setdefault(key, default)
        data.setdefault("blocks", [])
        view = View(id=vid, team_id=team_id, user=user, data=data)
        self.world.views[vid] = view
        return view

    def replace_view(self, view: View, raw: Any) -> View:
        """Replace a view's content, keeping its id, and give it a new hash."""
        if not isinstance(raw, dict):
            raise ApiError("invalid_arguments")
        keep = {
            k: view.data[k] for k in ("id", "team_id", "root_view_id", "previous_view_id", "app_id")
        }
        keep.update(app_installed_team_id=view.team_id, bot_id=view.data["bot_id"])
        data = dict(raw, **keep)
        data.update(state={"values": {}}, hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}")
        for key, default in (("private_metadata", ""), ("callback_id", ""), ("external_id", "")):
            data.setdefault(key, default)
        view.data = data
        return view


def paginate(
    items: list[Any], call: Call, default: int = 100, most: int | None = None
) -> tuple[list[Any], str]:
    """Cursor pagination: a page and the next cursor ('' on the last page). ``most``: the
    method's largest page (a larger ``limit`` answers that many, as Slack does)."""
    try:
        limit = int(call.get("limit", default)) or default
    except ValueError as exc:
        raise ApiError("invalid_limit") from exc
    if most is not None:
        limit = min(limit, most)
    try:
        start = int(str(call.get("cursor", "0")).removeprefix("dXNlcjo") or 0)
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (f"dXNlcjo{start + limit}" if more else "")


def checked_metadata(metadata: Any) -> dict[str, Any]:
    """Message metadata as Slack takes it: ``{"event_type": str, "event_payload": object}``.

    Slack refuses other shapes with ``invalid_metadata_format`` (chat.postMessage errors).
    """
    if (
        not isinstance(metadata, dict)
        or set(metadata) != {"event_type", "event_payload"}
        or not isinstance(metadata["event_type"], str)
        or not metadata["event_type"]
        or not isinstance(metadata["event_payload"], dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def readable(call: Call, data: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history returns it: metadata only with ``include_all_metadata``."""
    if "metadata" in data and not call.flag("include_all_metadata"):
        return {k: v for k, v in data.items() if k != "metadata"}
    return dict(data)


# Handlers for the other method families register themselves on import.
from . import webapi_apps, webapi_chat, webapi_conversations  # noqa: E402, F401
