"""Fuzz targets for what Slack sends: interaction payloads (buttons, selects, forms, message
shortcuts, slash commands) and Events API events, read by the real adapter code
(``bot/adapters/slack/app.py``, ``translate.py``, ``history.py``) with no network.

A payload is Slack's own shape with some of its values swapped for odd ones (a list where a dict
was, a number, a float past any date, text from the fuzzer), or any JSON. What the readers hand
on (a press, a command, a domain event) must be of the types the core expects; what they answer
a member pings nobody; nothing raises. The Discord side reads forms' fields (``form_fields``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

from bench.fuzz.common import fields, friendly, no_ping, pick
from bot.core.errors import render_error

_TEAM = {"id": "T1", "domain": "garden"}
_USER = {"id": "U1", "username": "alice", "name": "alice", "team_id": "T1"}
_USER_OBJECT = {
    "id": "U2",
    "team_id": "T1",
    "name": "nina",
    "deleted": False,
    "is_admin": False,
    "is_bot": False,
    "profile": {"display_name": "Nina", "real_name": "Nina N"},
}
_RESPONSE_URL = "https://hooks.slack.com/actions/T1/1/x"

INTERACTIONS: list[dict[str, Any]] = [
    {
        "type": "block_actions",
        "team": _TEAM,
        "user": _USER,
        "channel": {"id": "C1", "name": "general"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "thread_ts": "1.2"},
        "trigger_id": "1.2.abc",
        "response_url": _RESPONSE_URL,
        "actions": [
            {"type": "button", "action_id": "steward:desk:echo:hi", "value": "x", "block_id": "b"}
        ],
    },
    {
        "type": "block_actions",
        "team": _TEAM,
        "user": _USER,
        "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "actions": [
            {
                "type": "multi_static_select",
                "action_id": "steward:desk:pick:",
                "selected_options": [{"value": "a", "text": {"type": "plain_text", "text": "A"}}],
            }
        ],
    },
    {
        "type": "block_actions",
        "team": _TEAM,
        "user": _USER,
        "container": {"type": "view", "view_id": "V1"},
        "actions": [
            {
                "type": "static_select",
                "action_id": "steward:desk:one:",
                "selected_option": {"value": "b", "text": {"type": "plain_text", "text": "B"}},
            }
        ],
    },
    {
        "type": "view_submission",
        "team": _TEAM,
        "user": _USER,
        "trigger_id": "1.2.abc",
        "view": {
            "id": "V1",
            "callback_id": "steward:desk:form:1",
            "private_metadata": "C1:1700000000.000100",
            "state": {
                "values": {
                    "b1": {"reason": {"type": "plain_text_input", "value": "spam"}},
                    "b2": {"note": {"type": "plain_text_input", "value": None}},
                }
            },
        },
    },
    {
        "type": "view_submission",
        "team": _TEAM,
        "user": _USER,
        "view": {"callback_id": "steward:desk:form:", "private_metadata": "", "state": {}},
    },
    {
        "type": "message_action",
        "callback_id": "steward:desk:report:",
        "team": _TEAM,
        "user": _USER,
        "channel": {"id": "C1", "name": "general"},
        "message_ts": "1700000000.000100",
        "trigger_id": "1.2.abc",
        "response_url": _RESPONSE_URL,
        "message": {
            "type": "message",
            "user": "U3",
            "ts": "1700000000.000100",
            "text": "buy &lt;now&gt; <!channel>",
            "files": [{"id": "F1", "name": "a.png"}],
        },
    },
    {
        "command": "/moderation",
        "text": "appeal <@U2|nina> <!channel> please",
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "response_url": _RESPONSE_URL,
        "trigger_id": "1.2.abc",
    },
    {"command": "/steward", "text": "nosuch <!here>", "team_id": "T1", "user_id": "U1"},
]
"""Interaction payloads as Slack sends them (block_actions, view_submission, message_action,
a slash command's form fields)."""


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event_time": 1700000000,
        "event": event,
    }


EVENTS: list[dict[str, Any]] = [
    _envelope(
        {
            "type": "message",
            "channel": "C1",
            "channel_type": "channel",
            "user": "U1",
            "text": "hi <@U2> <!here>",
            "ts": "1700000000.000100",
            "event_ts": "1700000000.000100",
        }
    ),
    _envelope(
        {
            "type": "message",
            "subtype": "thread_broadcast",
            "channel": "C1",
            "user": "U1",
            "text": "reply",
            "ts": "1700000001.000100",
            "thread_ts": "1700000000.000100",
            "parent_user_id": "U2",
            "files": [{"id": "F1"}],
        }
    ),
    _envelope({"type": "message", "subtype": "bot_message", "bot_id": "B1", "ts": "1.5"}),
    _envelope(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "event_ts": "1700000002.000100",
            "message": {"user": "U1", "text": "edited", "ts": "1.1", "thread_ts": "1.0"},
        }
    ),
    _envelope(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C1",
            "deleted_ts": "1.1",
            "event_ts": "1.2",
        }
    ),
    _envelope({"type": "team_join", "user": _USER_OBJECT, "event_ts": "1.1"}),
    _envelope({"type": "user_change", "user": {**_USER_OBJECT, "deleted": True}}),
    _envelope({"type": "user_change", "user": _USER_OBJECT}),
    _envelope(
        {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "tada",
            "item": {"type": "message", "channel": "C1", "ts": "1.1"},
            "event_ts": "1.2",
        }
    ),
    _envelope(
        {
            "type": "reaction_removed",
            "user": "U1",
            "reaction": "tada",
            "item": {"type": "message", "channel": "C1", "ts": "1.1"},
        }
    ),
]
"""Events API envelopes for every event the translator reads."""

ODD: list[Any] = [
    None, "", 0, -1, 1.5, 1e308, float("inf"), float("nan"), True, [], {}, [{}], [[]], [None],
    "1e400", "nan", "-1e20", "abc", "steward:desk:echo:x", "<!channel>", "@everyone",
    {"id": {}}, {"value": []}, ["x"], "Infinity",
]  # fmt: skip
"""Values a field might carry that it should not (JSON allows NaN and Infinity: Python reads
them, and so does slack-bolt)."""


def _paths(value: Any, into: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON value, depth first in a fixed order."""
    if isinstance(value, dict):
        for key in value:
            into.append((value, key))
            _paths(value[key], into)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            into.append((value, i))
            _paths(item, into)
    return into


def payload(data: bytes, bases: list[dict[str, Any]]) -> tuple[int, Any]:
    """A base payload (its index) with values swapped, or (first byte picks) any JSON.

    After the choice, bytes up to the first NUL come in pairs: which value to swap, and for
    what (an odd value, or the text after the NUL)."""
    choice, rest = pick(data, len(bases) + 1)
    if choice == len(bases):
        which, rest = pick(rest, len(bases))
        try:
            return which, json.loads(rest)
        except (ValueError, RecursionError):
            return which, {}
    body = copy.deepcopy(bases[choice])
    swaps, _, tail = rest.partition(b"\0")
    (text,) = fields(tail, 1)
    for at in range(0, len(swaps) - 1, 2):
        paths = _paths(body, [])
        if not paths:
            break
        container, key = paths[swaps[at] % len(paths)]
        odd = swaps[at + 1] % (len(ODD) + 1)
        container[key] = text if odd == len(ODD) else copy.deepcopy(ODD[odd])
    return choice, body


# -- What the readers hand on must have the types the core expects ------------------------------


def typed(value: Any, hint: Any, where: str) -> None:
    """Fail unless ``value`` is of type ``hint`` (dataclasses checked field by field)."""
    origin = typing.get_origin(hint)
    if hint is Any or getattr(hint, "_is_protocol", False):
        return  # a protocol (the responder): the stand-in's own
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                typed(value, option, where)
            except AssertionError:
                continue
            return
        raise AssertionError(f"{where} is {value!r}, not {hint}")
    if origin is typing.Literal:
        assert value in typing.get_args(hint), f"{where} is {value!r}, not {hint}"
        return
    if hint is type(None):
        assert value is None, f"{where} is {value!r}, not None"
        return
    if origin is not None:
        assert isinstance(value, origin), f"{where} is {value!r}, not {hint}"
        args = typing.get_args(hint)
        if isinstance(value, Mapping):
            for key, item in value.items():
                typed(key, args[0], f"{where} key")
                typed(item, args[1], f"{where}[{key!r}]")
        elif args and args[-1] is Ellipsis:
            for item in value:
                typed(item, args[0], f"{where} item")
        elif origin is tuple:
            assert len(value) == len(args), f"{where} is {value!r}, not {hint}"
            for item, arg in zip(value, args, strict=True):
                typed(item, arg, f"{where} item")
        else:
            for item in value:
                typed(item, args[0], f"{where} item")
        return
    if isinstance(hint, type) and issubclass(hint, float) and isinstance(value, int):
        return
    assert isinstance(hint, type), f"{where}: cannot check {hint}"
    assert isinstance(value, hint), f"{where} is {value!r}, not {hint.__name__}"
    if isinstance(hint, type) and issubclass(hint, bool | Enum):
        return
    if isinstance(value, str):
        value.encode("utf-8")  # no lone surrogate
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"{where} is a naive time"
    if dataclasses.is_dataclass(value):
        hints = _hints(type(value))
        for f in dataclasses.fields(value):
            if f.name in hints:
                typed(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# -- A stand-in for the adapter: the real readers, with what they call recorded -----------------


class _Client:
    """The Web API calls the readers make, answered as Slack would, recorded."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def conversations_open(self, **kwargs: Any) -> dict[str, Any]:
        assert isinstance(kwargs.get("users"), str), f"conversations.open for {kwargs!r}"
        return {"ok": True, "channel": {"id": "D1"}}

    async def users_info(self, **kwargs: Any) -> dict[str, Any]:
        user = kwargs.get("user")
        assert isinstance(user, str), f"users.info for {user!r}"
        return {"ok": True, "user": {**_USER_OBJECT, "id": user}}

    async def usergroups_list(self, **kwargs: Any) -> dict[str, Any]:
        return {"ok": True, "usergroups": [{"id": "S1", "handle": "mods", "users": ["U1"]}]}

    async def chat_postEphemeral(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        return {"ok": True}

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        return {"ok": True, "ts": "1.1", "channel": "C1"}


class _Stand:
    """What ``SlackAdapter``'s readers use of ``self``: the real port (over ``_Client``), the
    real registry and reader methods; the dispatcher's entry points recorded."""

    def __init__(self) -> None:
        from bot.adapters.slack.app import SlackAdapter
        from bot.adapters.slack.port import SlackPort

        self.client = _Client()
        self.port = SlackPort(self.client)  # type: ignore[arg-type]
        self.registry = _registry()
        self.team_id = "T1"
        self._session = types.SimpleNamespace(closed=False)
        self.handed: list[Any] = []
        self.dispatcher = types.SimpleNamespace(invoke=self._handed, press=self._handed)
        for name in ("_community", "member", "_press"):
            setattr(self, name, types.MethodType(getattr(SlackAdapter, name), self))

    async def _answer_failure(self, responder: Any, exc: Exception, what: str) -> None:
        """A refusal in Steward's words is answered (the real one sends it); anything else
        is a bug the reader let through."""
        from bot.core.errors import UserError

        if not isinstance(exc, UserError):
            raise AssertionError(f"{what} failed before its handler: {exc!r}") from exc
        friendly(exc.message, f"the refusal of {what}")
        await responder.send(render_error(exc, error_id=""), ephemeral=True)

    async def _handed(self, call: Any) -> None:
        self.handed.append(call)

    def _respond(self, body: dict[str, Any]) -> Any:
        """The response_url's answers, recorded (the real one posts them)."""
        url = body.get("response_url")
        if not isinstance(url, str) or not url:
            return None

        async def respond(**kwargs: Any) -> bool:
            self.client.sent.append(kwargs)
            return True

        return respond


@cache
def _registry() -> Any:
    from bot.core.registry import Registry
    from bot.features import load

    return Registry(load(["all"]))


@cache
def _commands() -> frozenset[str]:
    registry = _registry()
    return frozenset(f"/{f.name}" for f in registry.features if registry.commands(f.name))


def _run(coro: Any) -> None:
    """Run a reader to its end: it awaits nothing but the stand-in, so one step must finish it
    (anything else would wait on a network this target has none of)."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise AssertionError("a reader waited on something other than the stand-in")


async def _ack(**kwargs: Any) -> None:
    return None


def _checked(stand: _Stand, where: str) -> None:
    from bot.adapters.slack.text import to_mrkdwn
    from bot.core.calls import Invocation, Press

    for call in stand.handed:
        typed(call, Press if isinstance(call, Press) else Invocation, where)
    for sent in stand.client.sent:
        text = json.dumps(sent.get("blocks") or []) + str(sent.get("text") or "")
        no_ping(text.replace("<@U1>", "[the presser]"), f"the answer to {where}")
        friendly(to_mrkdwn(str(sent.get("text") or "")), f"the answer to {where}")


def slack_interactions(data: bytes) -> None:
    """Any button press, select pick, form submission, message shortcut or slash command: a
    press or command of the right types for the dispatcher, or nothing; an answer that pings
    nobody; never an exception."""
    from bot.adapters.slack.app import SlackAdapter

    which, body = payload(data, INTERACTIONS)
    if not isinstance(body, dict):
        body = {"payload": body}
    stand = _Stand()
    kind = INTERACTIONS[which].get("type", "command")
    if kind == "command" and str(body.get("command")) not in _commands():
        return  # slack-bolt runs the reader only for a command Steward registered
    reader = {
        "block_actions": SlackAdapter._action,
        "view_submission": SlackAdapter._view,
        "message_action": SlackAdapter._shortcut,
        "command": SlackAdapter._slash,
    }[str(kind)]
    _run(reader(stand, _ack, body))  # type: ignore[arg-type]
    _checked(stand, str(kind))


def slack_events(data: bytes) -> None:
    """Any Events API envelope for the events Steward reads: domain events of the right types,
    or none; never an exception."""
    from bot.adapters.slack.translate import Translator
    from bot.core.events import Event

    which, body = payload(data, EVENTS)
    if not isinstance(body, dict):
        body = {"event": body}
    event = body.get("event")
    if not isinstance(event, dict):
        return  # Bolt routes an event by its type: without an event dict there is no listener
    stand = _Stand()
    published: list[Event] = []

    async def publish(found: Event) -> None:
        published.append(found)

    translate = Translator(stand.port, stand._community, publish)  # type: ignore[attr-defined]
    kind = EVENTS[which]["event"]["type"]
    reader = {
        "message": translate.message,
        "team_join": translate.team_join,
        "user_change": translate.user_change,
        "reaction_added": translate.reaction,
        "reaction_removed": translate.reaction,
    }[kind]
    _run(reader(body, event))
    for found in published:
        typed(found, type(found), kind)


# -- Discord forms and selects (bot/adapters/discord/client.py) ---------------------------------

DISCORD_FORMS: list[dict[str, Any]] = [
    {
        "custom_id": "steward:desk:form:",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "reason", "value": "spam"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "note", "value": "hi"}},
        ],
    },
    {"custom_id": "steward:desk:pick:", "component_type": 3, "values": ["a", "b"]},
]


def discord_forms(data: bytes) -> None:
    """Any interaction data: the form's fields and a select's picks as text, never a crash."""
    from bot.adapters.discord.convert import form_fields, picked

    _, body = payload(data, DISCORD_FORMS)
    if not isinstance(body, dict):
        return  # discord.py hands on a dict (or nothing)
    found = form_fields(body)
    typed(found, dict[str, str], "a form's fields")
    typed(picked(body), tuple[str, ...], "a select's picks")
