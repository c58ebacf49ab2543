"""Interaction payloads and events of odd shapes, read by the adapter's real readers (through the
fuzz targets' stand-in for the adapter, no network): each is read into a press, command or
event of the right types, or dropped; none raises (slack-bolt would log its traceback to the
operator's terminal, and the member's click or the newcomer's join would come to nothing).

Each case was found by ``bench.fuzz`` (targets ``slack_interactions``, ``slack_events``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.fuzz.slack import (
    EVENTS,
    INTERACTIONS,
    _ack,
    _run,
    _Stand,
    slack_events,
    slack_interactions,
)


def _raw(bases: list[dict[str, Any]], kind: str, body: dict[str, Any]) -> bytes:
    """The fuzz input that feeds ``body`` to the reader of ``kind``."""
    which = next(
        i
        for i, base in enumerate(bases)
        if base.get("type", "command") == kind or base.get("event", {}).get("type") == kind
    )
    return bytes([len(bases), which]) + json.dumps(body).encode()


_ACTION = INTERACTIONS[0]
_SHORTCUT = next(p for p in INTERACTIONS if p.get("type") == "message_action")
_VIEW = INTERACTIONS[3]
_PRESS_ID = "steward:desk:echo:hi"

ODD_INTERACTIONS = {
    "team as a text": ("block_actions", {**_ACTION, "team": "T1"}),
    "channel as a list": ("block_actions", {**_ACTION, "channel": ["C1"]}),
    "actions as an object": ("block_actions", {**_ACTION, "actions": {"action_id": _PRESS_ID}}),
    "an action as a text": ("block_actions", {**_ACTION, "actions": [_PRESS_ID]}),
    "an option without its value": (
        "block_actions",
        {**_ACTION, "actions": [{"action_id": _PRESS_ID, "selected_options": [{"text": {}}]}]},
    ),
    "options as a number": (
        "block_actions",
        {**_ACTION, "actions": [{"action_id": _PRESS_ID, "selected_options": 3}]},
    ),
    "an option as a text": (
        "block_actions",
        {**_ACTION, "actions": [{"action_id": _PRESS_ID, "selected_option": "a"}]},
    ),
    "a thread ts as a number": (
        "block_actions",
        {**_ACTION, "container": {"message_ts": "1.1", "thread_ts": 1.2}},
    ),
    "a team id as a number": ("command", {**INTERACTIONS[-2], "team_id": 7}),
    "a shortcut's ts not a number": (
        "message_action",
        {**_SHORTCUT, "message": {**_SHORTCUT["message"], "ts": "nan"}},
    ),
    "a shortcut's ts past any date": (
        "message_action",
        {**_SHORTCUT, "message": {**_SHORTCUT["message"], "ts": "1e400"}},
    ),
    "a shortcut's files as texts": (
        "message_action",
        {**_SHORTCUT, "message": {**_SHORTCUT["message"], "files": ["a.png"]}},
    ),
    "a shortcut's message as a text": ("message_action", {**_SHORTCUT, "message": "hi"}),
    "a form's state as a list": (
        "view_submission",
        {**_VIEW, "view": {**_VIEW["view"], "state": {"values": {"b1": ["reason"]}}}},
    ),
    "a form's value holder as a text": (
        "view_submission",
        {**_VIEW, "view": {**_VIEW["view"], "state": {"values": {"b1": {"reason": "spam"}}}}},
    ),
    "a form's view as a text": ("view_submission", {**_VIEW, "view": "V1"}),
}


@pytest.mark.parametrize("case", sorted(ODD_INTERACTIONS))
def test_an_interaction_of_an_odd_shape_is_read_or_dropped(case: str) -> None:
    kind, body = ODD_INTERACTIONS[case]
    slack_interactions(_raw(INTERACTIONS, kind, body))


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "event": event}


_JOIN = EVENTS[5]["event"]
_POSTED = EVENTS[0]["event"]
ODD_EVENTS = {
    "a newcomer without an id": ("team_join", {**_JOIN, "user": {"name": "nina"}}),
    "a newcomer as a text": ("team_join", {**_JOIN, "user": "U2"}),
    "a newcomer's profile as a text": (
        "team_join",
        {**_JOIN, "user": {**_JOIN["user"], "profile": "Nina"}},
    ),
    "a change without an id": ("user_change", {"type": "user_change", "user": {"deleted": True}}),
    "a message's ts not a number": ("message", {**_POSTED, "ts": "abc"}),
    "a message's files as a number": ("message", {**_POSTED, "files": 3}),
    "an edit's message as a list": (
        "message",
        {**_POSTED, "subtype": "message_changed", "message": ["x"]},
    ),
    "an edit's thread as a number": (
        "message",
        {**_POSTED, "subtype": "message_changed", "message": {"ts": "1.1", "thread_ts": 2}},
    ),
    "an event time past any date": ("reaction_added", {**EVENTS[8]["event"], "event_ts": "inf"}),
    "a reaction's item as a text": ("reaction_added", {**EVENTS[8]["event"], "item": "C1"}),
}


@pytest.mark.parametrize("case", sorted(ODD_EVENTS))
def test_an_event_of_an_odd_shape_is_read_or_dropped(case: str) -> None:
    kind, event = ODD_EVENTS[case]
    slack_events(_raw(EVENTS, kind, _event(event)))


def test_the_readers_still_hand_on_what_they_can_read() -> None:
    """An odd team or option does not lose the press: it reaches the dispatcher, in the app's
    own workspace, with the options that have a value."""
    from bot.adapters.slack.app import SlackAdapter

    stand = _Stand()
    action = {"action_id": _PRESS_ID, "selected_options": [{"value": "a"}, {"text": {}}, "b"]}
    body = {**_ACTION, "team": "T9", "actions": [action]}
    _run(SlackAdapter._action(stand, _ack, body))  # type: ignore[arg-type]
    (press,) = stand.handed
    assert (press.community.id, press.feature, press.action, press.values) == (
        "T1",
        "desk",
        "echo",
        ("a",),
    )
