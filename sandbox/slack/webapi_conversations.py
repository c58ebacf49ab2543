"""Web API: conversations.* and users.* handlers."""

from __future__ import annotations

from typing import Any

from .state import Channel, StoredMessage
from .webapi import _CHANNEL_NAME, ApiError, Call, WebApi, method, paginate, readable

_TYPES = {"public_channel", "private_channel", "im", "mpim"}


def _kind(ch: Channel) -> str:
    if ch.is_im:
        return "im"
    if ch.is_mpim:
        return "mpim"
    return "private_channel" if ch.is_private else "public_channel"


def _types(call: Call) -> set[str]:
    types = set(call.ids("types") or ["public_channel"])
    if not types <= _TYPES:
        raise ApiError("invalid_types")
    return types


def join_channel(api: WebApi, ch: Channel, user: str, inviter: str | None = None) -> None:
    """Add a member: `member_joined_channel` event plus the `channel_join` message Slack posts."""
    if user in ch.members:
        return
    ch.members.append(user)
    ts = api.world.next_ts()
    text = f"<@{user}> has joined the channel"
    data: dict[str, Any] = {
        "type": "message",
        "subtype": "channel_join",
        "user": user,
        "text": text,
        "ts": ts,
    }
    if inviter:
        data["inviter"] = inviter
    msg = StoredMessage(channel=ch.id, data=data, via="system")
    api.world.messages[ch.id].append(msg)
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user,
        "channel": ch.id,
        "channel_type": "G" if ch.is_private else "C",
        "team": ch.team_id,
        "event_ts": ts,
    }
    if inviter:
        event["inviter"] = inviter
    api.emit(ch.team_id, event)
    api.emit(ch.team_id, api.message_event(ch, msg))


def leave_channel(api: WebApi, ch: Channel, user: str) -> None:
    """Remove a member: `member_left_channel` event plus the `channel_leave` message."""
    if user not in ch.members:
        return
    ch.members.remove(user)
    ts = api.world.next_ts()
    data = {"type": "message", "subtype": "channel_leave", "user": user, "ts": ts}
    data["text"] = f"<@{user}> has left the channel"
    msg = StoredMessage(channel=ch.id, data=data, via="system")
    api.world.messages[ch.id].append(msg)
    event = {
        "type": "member_left_channel",
        "user": user,
        "channel": ch.id,
        "channel_type": "G" if ch.is_private else "C",
        "team": ch.team_id,
        "event_ts": ts,
    }
    api.emit(ch.team_id, event)
    api.emit(ch.team_id, api.message_event(ch, msg))


MPIM_MOST_USERS = 8
"""conversations.open: a group DM names at most 8 others (``too_many_users`` beyond)."""


@method("conversations.open")
def _open(api: WebApi, call: Call) -> dict[str, Any]:
    if call.get("channel"):
        ch = api.visible_channel(call, call.get("channel"))
        return {"ok": True, "channel": ch.to_api(call.who.user_id)}
    users = call.ids("users")
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > MPIM_MOST_USERS:
        raise ApiError("too_many_users")
    for uid in users:
        user = api.world.users.get(uid)
        if user is None or user.team_id != call.who.team_id:
            raise ApiError("user_not_found")
        if user.deleted:
            raise ApiError("user_disabled")
        refusal = api.world.dms_closed.get(uid)
        if refusal is not None and call.who.kind == "bot":
            raise ApiError(refusal)
    if len(users) > 1:
        members = sorted({*users, call.who.user_id})
        found = next(
            (c for c in api.world.channels.values() if c.is_mpim and sorted(c.members) == members),
            None,
        )
        if found is None:
            found = Channel(
                id=api.world.new_id("G"),
                team_id=call.who.team_id,
                name="mpdm-" + "--".join(members) + "-1",
                creator=call.who.user_id,
                created=api.world.now(),
                is_private=True,
                is_mpim=True,
                members=members,
            )
            api.world.channels[found.id] = found
            api.world.messages[found.id] = []
        # The spec's short form only admits D… ids, so group DMs answer with the full object.
        return {"ok": True, "channel": found.to_api(call.who.user_id)}
    ch, created = api.open_im(call.who, users[0])
    body: dict[str, Any] = {
        "ok": True,
        "channel": ch.to_api() if call.flag("return_im") else {"id": ch.id},
    }
    if not created:
        body.update(no_op=True, already_open=True)
    return body


@method("conversations.info")
def _info(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    return {"ok": True, "channel": ch.to_api(call.who.user_id)}


@method("conversations.list")
def _list(api: WebApi, call: Call) -> dict[str, Any]:
    types = _types(call)
    me = call.who.user_id
    chans = [
        c
        for c in api.world.channels.values()
        if c.team_id == call.who.team_id
        and _kind(c) in types
        and (_kind(c) == "public_channel" or me in c.members)
        and not (call.flag("exclude_archived") and c.is_archived)
    ]
    page, cursor = paginate(chans, call)
    return {
        "ok": True,
        "channels": [c.to_api(me) for c in page],
        "response_metadata": {"next_cursor": cursor},
    }


@method("conversations.members")
def _members(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    page, cursor = paginate(list(ch.members), call)
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}


def _history_window(call: Call, msgs: list[StoredMessage]) -> list[StoredMessage]:
    latest, oldest = call.get("latest"), call.get("oldest")
    inclusive = call.flag("inclusive")

    def keep(m: StoredMessage) -> bool:
        t = float(m.ts)
        if latest is not None and (t > float(latest) or (t == float(latest) and not inclusive)):
            return False
        return not (
            oldest is not None and (t < float(oldest) or (t == float(oldest) and not inclusive))
        )

    return [m for m in msgs if keep(m)]


@method("conversations.history")
def _history(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    top = [
        m
        for m in api.world.messages[ch.id]
        if not m.is_reply or m.data.get("subtype") == "thread_broadcast"
    ]
    msgs = list(reversed(_history_window(call, top)))
    # Newest first, from ``latest``; "limit: ... Maximum of 999", default 100 (Slack's docs).
    page, cursor = paginate(msgs, call, most=999)
    body: dict[str, Any] = {
        "ok": True,
        "messages": [readable(call, m.data) for m in page],
        "has_more": bool(cursor),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }
    if cursor:
        body["response_metadata"] = {"next_cursor": cursor}
    return body


@method("conversations.replies")
def _replies(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    ts = str(call.need("ts", "thread_not_found"))
    parent = api.world.find_message(ch.id, ts)
    if parent is None:
        raise ApiError("thread_not_found")
    root = parent.thread_ts or parent.ts
    msgs = [m for m in api.world.messages[ch.id] if m.ts == root or m.thread_ts == root]
    page, cursor = paginate(_history_window(call, msgs), call, default=1000)
    body: dict[str, Any] = {
        "ok": True,
        "messages": [readable(call, m.data) for m in page],
        "has_more": bool(cursor),
    }
    if cursor:
        # As Slack does: the next page is asked for with this cursor.
        body["response_metadata"] = {"next_cursor": cursor}
    return body


@method("conversations.invite")
def _invite(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    if ch.is_im or ch.is_mpim:
        raise ApiError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise ApiError("is_archived")
    if call.who.user_id not in ch.members:
        raise ApiError("not_in_channel")
    users = call.ids("users")
    if not users:
        raise ApiError("no_user")
    for uid in users:
        if uid == call.who.user_id:
            raise ApiError("cant_invite_self")
        user = api.world.users.get(uid)
        if user is None or user.team_id != ch.team_id or user.deleted:
            raise ApiError("user_not_found")
        if uid in ch.members:
            raise ApiError("already_in_channel")
    for uid in users:
        join_channel(api, ch, uid, inviter=call.who.user_id)
    return {"ok": True, "channel": ch.to_api(call.who.user_id)}


@method("conversations.join")
def _join(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.world.channels.get(str(call.get("channel", "")))
    if ch is None or ch.team_id != call.who.team_id:
        raise ApiError("channel_not_found")
    if ch.is_private or ch.is_im or ch.is_mpim:
        raise ApiError("method_not_supported_for_channel_type")
    if ch.is_archived:
        raise ApiError("is_archived")
    body: dict[str, Any] = {"ok": True}
    if call.who.user_id in ch.members:
        body.update(warning="already_in_channel")
        body["response_metadata"] = {"warnings": ["already_in_channel"]}
    join_channel(api, ch, call.who.user_id)
    body["channel"] = ch.to_api(call.who.user_id)
    return body


@method("conversations.create")
def _create(api: WebApi, call: Call) -> dict[str, Any]:
    name = str(call.get("name", ""))
    if not name:
        raise ApiError("invalid_name_required")
    if not _CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    if any(c.name == name and c.team_id == call.who.team_id for c in api.world.channels.values()):
        raise ApiError("name_taken")
    ch = Channel(
        id=api.world.new_id("C"),
        team_id=call.who.team_id,
        name=name,
        creator=call.who.user_id,
        created=api.world.now(),
        is_private=call.flag("is_private"),
        members=[call.who.user_id],
    )
    api.world.channels[ch.id] = ch
    api.world.messages[ch.id] = []
    return {"ok": True, "channel": ch.to_api(call.who.user_id)}


@method("conversations.kick")
def _kick(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.get("channel"))
    uid = str(call.get("user", ""))
    if uid == call.who.user_id:
        raise ApiError("cant_kick_self")
    if ch.is_im or ch.is_mpim:
        raise ApiError("method_not_supported_for_channel_type")
    if ch.is_general:
        raise ApiError("cant_kick_from_general")
    if call.who.user_id not in ch.members:
        raise ApiError("restricted_action")
    if uid not in api.world.users:
        raise ApiError("user_not_found")
    if uid not in ch.members:
        raise ApiError("not_in_channel")
    leave_channel(api, ch, uid)
    return {"ok": True}


# ---------------------------------------------------------------------- users
@method("users.info")
def _users_info(api: WebApi, call: Call) -> dict[str, Any]:
    user = api.world.users.get(str(call.get("user", "")))
    if user is None or user.team_id != call.who.team_id:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user.to_api()}


@method("users.list")
def _users_list(api: WebApi, call: Call) -> dict[str, Any]:
    users = [u for u in api.world.users.values() if u.team_id == call.who.team_id]
    # Slack answers at most 1,000 people a page whatever the limit asks (its pagination
    # guide); with no limit it tries the whole list, which the fake caps the same way.
    page, cursor = paginate(users, call, default=1000, most=1000)
    return {
        "ok": True,
        "members": [u.to_api() for u in page],
        "cache_ts": api.world.now(),
        "response_metadata": {"next_cursor": cursor},
    }


@method("users.conversations")
def _users_conversations(api: WebApi, call: Call) -> dict[str, Any]:
    uid = str(call.get("user", call.who.user_id))
    types = _types(call)
    me = call.who.user_id
    chans = [
        c
        for c in api.world.channels.values()
        if c.team_id == call.who.team_id
        and uid in c.members
        and _kind(c) in types
        and (_kind(c) == "public_channel" or me in c.members)
        and not (call.flag("exclude_archived") and c.is_archived)
    ]
    page, cursor = paginate(chans, call)
    return {
        "ok": True,
        "channels": [c.to_api(me) for c in page],
        "response_metadata": {"next_cursor": cursor},
    }
