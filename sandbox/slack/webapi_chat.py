"""Web API: auth.test, apps.connections.open, team.info, bots.info and chat.* handlers."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .state import APP_ID, Ephemeral
from .webapi import ApiError, Call, WebApi, method


# ---------------------------------------------------------------------- auth / apps / team / bots
@method("auth.test")
def _auth_test(api: WebApi, call: Call) -> dict[str, Any]:
    team = api.team(call)
    body: dict[str, Any] = {
        "ok": True,
        "url": f"https://{team.domain}.slack.test/",
        "team": team.name,
        "user": api.world.users[call.who.user_id].name,
        "team_id": team.id,
        "user_id": call.who.user_id,
        "is_enterprise_install": False,
    }
    if call.who.bot_id:
        body["bot_id"] = call.who.bot_id
    return body


@method("apps.connections.open")
def _apps_connections_open(api: WebApi, call: Call) -> dict[str, Any]:
    ticket = uuid.uuid4().hex
    api.tickets.add(ticket)
    ws = api.base_url().replace("http://", "ws://", 1)
    return {"ok": True, "url": f"{ws}/link/?ticket={ticket}&app_id={APP_ID}"}


@method("team.info")
def _team_info(api: WebApi, call: Call) -> dict[str, Any]:
    team = api.world.teams.get(str(call.get("team", call.who.team_id)))
    if team is None:
        raise ApiError("team_not_found")
    return {"ok": True, "team": team.to_api()}


@method("bots.info")
def _bots_info(api: WebApi, call: Call) -> dict[str, Any]:
    bot_id = call.get("bot", call.who.bot_id)
    team = next((t for t in api.world.teams.values() if t.bot_id == bot_id), None)
    if team is None:
        raise ApiError("bot_not_found")
    bot = {
        "id": team.bot_id,
        "deleted": False,
        "name": api.world.users[team.bot_user_id].name,
        "updated": team.created,
        "app_id": APP_ID,
        "user_id": team.bot_user_id,
        "icons": {f"image_{n}": f"https://a.slack-edge.test/b{n}.png" for n in (36, 48, 72)},
    }
    return {"ok": True, "bot": bot}


# ---------------------------------------------------------------------- chat
@method("chat.postMessage")
def _chat_post_message(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.resolve_post_target(call, call.need("channel", "channel_not_found"))
    if ch.is_archived:
        raise ApiError("is_archived")
    if call.who.user_id not in ch.members:
        raise ApiError("not_in_channel")
    msg = api.post(call, ch)
    return {"ok": True, "channel": ch.id, "ts": msg.ts, "message": dict(msg.data)}


@method("chat.postEphemeral")
def _chat_post_ephemeral(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.resolve_post_target(call, call.need("channel", "channel_not_found"))
    user = str(call.need("user", "user_not_in_channel"))
    if ch.is_archived:
        raise ApiError("is_archived")
    if call.who.user_id not in ch.members:
        raise ApiError("not_in_channel")
    if user not in ch.members:
        raise ApiError("user_not_in_channel")
    text = str(call.get("text", ""))
    blocks = call.json_arg("blocks")
    if not text and not blocks and not call.get("attachments"):
        raise ApiError("no_text")
    ts = api.world.next_ts()
    pings = api.world.compute_pings(
        ch, call.who.user_id, text, blocks, call.json_arg("attachments")
    )
    api.world.ephemerals.append(
        Ephemeral(ch.id, user, text, blocks, ts, "chat.postEphemeral", call.get("thread_ts"), pings)
    )
    return {"ok": True, "message_ts": ts}


@method("chat.update")
def _chat_update(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.need("channel", "channel_not_found"))
    msg = api.world.find_message(ch.id, str(call.need("ts", "message_not_found")))
    if msg is None:
        raise ApiError("message_not_found")
    if msg.user != call.who.user_id:
        raise ApiError("cant_update_message")
    previous = json.loads(json.dumps(msg.data))
    text = call.get("text")
    blocks = call.json_arg("blocks")
    if text is not None:
        msg.data["text"] = str(text)
    if blocks is not None:
        msg.data["blocks"] = blocks
    attachments = call.json_arg("attachments")
    if attachments is not None:
        msg.data["attachments"] = attachments
    msg.data["edited"] = {"user": call.who.user_id, "ts": api.world.next_ts()}
    msg.pings = msg.pings.union(
        api.world.compute_pings(ch, msg.user, msg.text, msg.data.get("blocks"), attachments)
    )
    if api.echo_bot_messages:
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": ch.id,
            "channel_type": ch.channel_type,
            "ts": msg.data["edited"]["ts"],
            "event_ts": msg.data["edited"]["ts"],
            "message": dict(msg.data),
            "previous_message": previous,
        }
        api.emit(ch.team_id, event)
    return {"ok": True, "channel": ch.id, "ts": msg.ts, "text": msg.text, "message": dict(msg.data)}


@method("chat.delete")
def _chat_delete(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.need("channel", "channel_not_found"))
    msg = api.world.find_message(ch.id, str(call.need("ts", "message_not_found")))
    if msg is None:
        raise ApiError("message_not_found")
    actor = api.world.users[call.who.user_id]
    may = msg.user == actor.id or (call.who.kind == "user" and (actor.is_admin or actor.is_owner))
    if not may:
        raise ApiError("cant_delete_message")
    api.world.messages[ch.id].remove(msg)
    api.world.deleted.append(msg)
    if api.echo_bot_messages:
        ts = api.world.next_ts()
        api.emit(
            ch.team_id,
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "channel": ch.id,
                "channel_type": ch.channel_type,
                "ts": ts,
                "event_ts": ts,
                "deleted_ts": msg.ts,
                "previous_message": dict(msg.data),
            },
        )
    return {"ok": True, "channel": ch.id, "ts": msg.ts}


@method("chat.getPermalink")
def _chat_get_permalink(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call, call.need("channel", "channel_not_found"))
    ts = str(call.need("message_ts", "message_not_found"))
    if api.world.find_message(ch.id, ts) is None:
        raise ApiError("message_not_found")
    link = f"https://{api.team(call).domain}.slack.test/archives/{ch.id}/p{ts.replace('.', '')}"
    return {"ok": True, "channel": ch.id, "permalink": link}
