"""Web API: reactions.*, views.*, files.* and usergroups.* handlers."""

from __future__ import annotations

from typing import Any

from .state import Channel, StoredFile, StoredMessage, UserGroup
from .webapi import _EMOJI, ApiError, Call, WebApi, method


# ---------------------------------------------------------------------- reactions
def react(api: WebApi, ch: Channel, msg: StoredMessage, user: str, name: str, *, add: bool) -> None:
    """Add or remove one reaction and emit reaction_added / reaction_removed."""
    if not _EMOJI.match(name):
        raise ApiError("invalid_name")
    reactions: list[dict[str, Any]] = msg.data.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if add:
        if entry is not None and user in entry["users"]:
            raise ApiError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
    else:
        if entry is None or user not in entry["users"]:
            raise ApiError("no_reaction")
        entry["users"].remove(user)
    entry["count"] = len(entry["users"])
    if entry["count"] == 0:
        reactions.remove(entry)
    if not reactions:
        msg.data.pop("reactions", None)
    event: dict[str, Any] = {
        "type": "reaction_added" if add else "reaction_removed",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": ch.id, "ts": msg.ts},
        "event_ts": api.world.next_ts(),
    }
    if msg.user:
        event["item_user"] = msg.user
    api.emit(ch.team_id, event)


def _reaction_target(api: WebApi, call: Call) -> tuple[Channel, StoredMessage]:
    if not call.get("channel") or not call.get("timestamp"):
        raise ApiError("no_item_specified")
    ch = api.visible_channel(call, call.get("channel"))
    msg = api.world.find_message(ch.id, str(call.get("timestamp")))
    if msg is None:
        raise ApiError("message_not_found")
    return ch, msg


@method("reactions.add")
def _reactions_add(api: WebApi, call: Call) -> dict[str, Any]:
    ch, msg = _reaction_target(api, call)
    react(api, ch, msg, call.who.user_id, str(call.get("name", "")), add=True)
    return {"ok": True}


@method("reactions.remove")
def _reactions_remove(api: WebApi, call: Call) -> dict[str, Any]:
    ch, msg = _reaction_target(api, call)
    react(api, ch, msg, call.who.user_id, str(call.get("name", "")), add=False)
    return {"ok": True}


# ---------------------------------------------------------------------- views
@method("views.open")
def _views_open(api: WebApi, call: Call) -> dict[str, Any]:
    trig = api._use_trigger(str(call.get("trigger_id", "")))
    view = api.new_view(trig.team_id, trig.user, call.json_arg("view"))
    if view.type != "modal":
        raise ApiError("invalid_arguments")
    api.world.modal_stacks[trig.user] = [view.id]
    return {"ok": True, "view": view.data}


@method("views.push")
def _views_push(api: WebApi, call: Call) -> dict[str, Any]:
    trig = api._use_trigger(str(call.get("trigger_id", "")))
    stack = api.world.modal_stacks.get(trig.user, [])
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= 3:
        raise ApiError("push_limit_reached")
    view = api.new_view(trig.team_id, trig.user, call.json_arg("view"), root=stack[0])
    view.data["previous_view_id"] = stack[-1]
    stack.append(view.id)
    return {"ok": True, "view": view.data}


@method("views.update")
def _views_update(api: WebApi, call: Call) -> dict[str, Any]:
    vid, ext = call.get("view_id"), call.get("external_id")
    view = api.world.views.get(str(vid)) if vid else None
    if view is None and ext:
        view = next((v for v in api.world.views.values() if v.data.get("external_id") == ext), None)
    if view is None or view.team_id != call.who.team_id:
        raise ApiError("not_found")
    if call.get("hash") is not None and call.get("hash") != view.data["hash"]:
        raise ApiError("hash_conflict")
    api.replace_view(view, call.json_arg("view"))
    return {"ok": True, "view": view.data}


@method("views.publish")
def _views_publish(api: WebApi, call: Call) -> dict[str, Any]:
    uid = str(call.get("user_id", ""))
    user = api.world.users.get(uid)
    if user is None or user.team_id != call.who.team_id:
        raise ApiError("user_not_found")
    raw = call.json_arg("view")
    if not isinstance(raw, dict) or raw.get("type") != "home":
        raise ApiError("invalid_arguments")
    current = api.world.views.get(api.world.home_views.get(uid, ""))
    if current is not None:
        if call.get("hash") is not None and call.get("hash") != current.data["hash"]:
            raise ApiError("hash_conflict")
        api.replace_view(current, raw)
        return {"ok": True, "view": current.data}
    view = api.new_view(call.who.team_id, uid, raw)
    api.world.home_views[uid] = view.id
    return {"ok": True, "view": view.data}


# ---------------------------------------------------------------------- files
def share_file(
    api: WebApi, call: Call, f: StoredFile, channel_ids: list[str], comment: str
) -> None:
    """Share an uploaded file into channels as a `file_share` message."""
    for cid in channel_ids:
        ch = api.resolve_post_target(call, cid)
        if call.who.user_id not in ch.members:
            raise ApiError("not_in_channel")
        f.channels.append(ch.id)
        data = api.bot_message(call, ch, comment)
        data.update(subtype="file_share", files=[f.to_api()], upload=True)
        thread_ts = call.get("thread_ts")
        parent = api.world.find_message(ch.id, str(thread_ts)) if thread_ts else None
        if parent is not None:
            data.update(thread_ts=parent.ts, parent_user_id=parent.user)
        msg = StoredMessage(
            channel=ch.id,
            data=data,
            pings=api.world.compute_pings(ch, call.who.user_id, comment, None, None),
        )
        api.world.messages[ch.id].append(msg)
        if parent is not None:
            api.add_reply(parent, msg)
        if api.echo_bot_messages:
            api.emit(ch.team_id, api.message_event(ch, msg))


@method("files.upload")
def _files_upload(api: WebApi, call: Call) -> dict[str, Any]:
    content = call.get("file", call.get("content"))
    if content is None:
        raise ApiError("no_file_data")
    data = content if isinstance(content, bytes) else str(content).encode()
    name = str(call.get("filename", "file"))
    f = StoredFile(
        id=api.world.new_id("F"),
        team_id=call.who.team_id,
        user=call.who.user_id,
        name=name,
        title=str(call.get("title", name)),
        length=len(data),
        data=data,
        created=api.world.now(),
    )
    api.world.files[f.id] = f
    share_file(api, call, f, call.ids("channels"), str(call.get("initial_comment", "")))
    return {"ok": True, "file": f.to_api()}


@method("files.getUploadURLExternal")
def _files_get_upload_url(api: WebApi, call: Call) -> dict[str, Any]:
    name = call.get("filename")
    try:
        length = int(call.get("length", -1))
    except ValueError as exc:
        raise ApiError("invalid_arguments") from exc
    if not name or length < 1:
        raise ApiError("invalid_arguments")
    f = StoredFile(
        id=api.world.new_id("F"),
        team_id=call.who.team_id,
        user=call.who.user_id,
        name=str(name),
        title=str(name),
        length=length,
        created=api.world.now(),
    )
    api.world.files[f.id] = f
    return {"ok": True, "upload_url": f"{api.base_url()}/upload/{f.id}", "file_id": f.id}


@method("files.completeUploadExternal")
def _files_complete(api: WebApi, call: Call) -> dict[str, Any]:
    listed = call.json_arg("files")
    if not isinstance(listed, list) or not listed:
        raise ApiError("invalid_arguments")
    done: list[StoredFile] = []
    for item in listed:
        f = api.world.files.get(str(item.get("id", "")))
        if f is None or f.data is None or f.team_id != call.who.team_id:
            raise ApiError("file_not_found")
        if item.get("title"):
            f.title = str(item["title"])
        done.append(f)
    targets = call.ids("channels") or (
        [str(call.get("channel_id"))] if call.get("channel_id") else []
    )
    comment = str(call.get("initial_comment", ""))
    for f in done:
        share_file(api, call, f, targets, comment)
        comment = ""
    return {"ok": True, "files": [f.to_api() for f in done]}


# ---------------------------------------------------------------------- usergroups
def _group(api: WebApi, call: Call) -> UserGroup:
    group = api.world.usergroups.get(str(call.get("usergroup", "")))
    if group is None or group.team_id != call.who.team_id:
        raise ApiError("no_such_subteam")
    return group


@method("usergroups.list")
def _usergroups_list(api: WebApi, call: Call) -> dict[str, Any]:
    groups = [g for g in api.world.usergroups.values() if g.team_id == call.who.team_id]
    include = call.flag("include_users")
    return {"ok": True, "usergroups": [g.to_api(include_users=include) for g in groups]}


@method("usergroups.users.list")
def _usergroups_users_list(api: WebApi, call: Call) -> dict[str, Any]:
    return {"ok": True, "users": list(_group(api, call).users)}


@method("usergroups.users.update")
def _usergroups_users_update(api: WebApi, call: Call) -> dict[str, Any]:
    group = _group(api, call)
    users = call.ids("users")
    for uid in users:
        if uid not in api.world.users:
            raise ApiError("user_not_found")
    before = set(group.users)
    group.users = users
    api.emit(
        group.team_id,
        {
            "type": "subteam_members_changed",
            "subteam_id": group.id,
            "team_id": group.team_id,
            "added_users": sorted(set(users) - before),
            "removed_users": sorted(before - set(users)),
            "event_ts": api.world.next_ts(),
        },
    )
    return {"ok": True, "usergroup": group.to_api()}


@method("usergroups.create")
def _usergroups_create(api: WebApi, call: Call) -> dict[str, Any]:
    name = str(call.get("name", ""))
    handle = str(call.get("handle", name.lower().replace(" ", "-")))
    for g in api.world.usergroups.values():
        if g.team_id == call.who.team_id and (g.name == name or g.handle == handle):
            raise ApiError("name_taken")
    group = UserGroup(
        id=api.world.new_id("S"),
        team_id=call.who.team_id,
        name=name,
        handle=handle,
        description=str(call.get("description", "")),
        created_by=call.who.user_id,
        date_create=api.world.now(),
    )
    api.world.usergroups[group.id] = group
    return {"ok": True, "usergroup": group.to_api()}
