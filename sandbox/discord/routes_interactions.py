"""REST: interaction callbacks, the original response and followups (the interaction webhook)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import payloads
from .interactions import InteractionResult
from .rest import Call, Reply, RestError, invalid_form, route
from .routes_common import create_message, edit_message, message_json
from .routes_messages import execute_channel_webhook
from .state import EPHEMERAL, JSON, LOADING, Channel, Message

if TYPE_CHECKING:
    from .server import FakeDiscord

TOKEN_LIFETIME = 15 * 60
COMPONENT, MODAL_SUBMIT, APPLICATION_COMMAND, AUTOCOMPLETE = 3, 5, 2, 4


def _metadata(fake: FakeDiscord, it: InteractionResult) -> JSON:
    user = fake.world.users[it.user_id]
    owners = {"0": it.guild_id} if it.guild_id else {"1": it.user_id}
    meta: JSON = {
        "id": it.id,
        "type": it.type,
        "user": payloads.user(user),
        "authorizing_integration_owners": owners,
    }
    if it.type == COMPONENT and it.source_message_id:
        meta["interacted_message_id"] = it.source_message_id
    if it.type == MODAL_SUBMIT and it.triggered_by is not None:
        meta["triggering_interaction_metadata"] = _metadata(fake, it.triggered_by)
    if it.type == APPLICATION_COMMAND:
        data = it.payload.get("data", {})
        if data.get("type") == 2:
            meta["target_user"] = payloads.user(fake.world.users[data["target_id"]])
        elif data.get("type") == 3:
            meta["target_message_id"] = data["target_id"]
    if it.original_id and it.original_id in fake.world.messages:
        meta["original_response_message_id"] = it.original_id
    return meta


def _response_message(
    fake: FakeDiscord, it: InteractionResult, body: JSON, files: list[JSON], *, loading: bool
) -> Message:
    channel = fake.world.channels[it.channel_id]
    flags = int(body.get("flags") or 0)
    ephemeral = bool(flags & EPHEMERAL)
    command_type = it.payload.get("data", {}).get("type", 1)
    msg_type = 20 if it.type == APPLICATION_COMMAND and command_type == 1 else 23
    if it.type != APPLICATION_COMMAND:
        msg_type = 0 if it.type == COMPONENT else 20
    return _bot_message(
        fake,
        it,
        channel,
        body,
        files,
        type_=msg_type,
        extra=LOADING if loading else 0,
        ephemeral=ephemeral,
        allow_empty=loading,
    )


def _bot_message(
    fake: FakeDiscord,
    it: InteractionResult,
    channel: Channel,
    body: JSON,
    files: list[JSON],
    *,
    type_: int,
    extra: int = 0,
    ephemeral: bool,
    allow_empty: bool = False,
) -> Message:
    return create_message(
        fake,
        channel,
        body,
        files,
        type_=type_,
        extra_flags=extra,
        visible_to=it.user_id if ephemeral else None,
        webhook_id=fake.app.id,
        application_id=fake.app.id,
        interaction_metadata=_metadata(fake, it),
        allow_empty=allow_empty,
    )


def _interaction(fake: FakeDiscord, call: Call) -> InteractionResult:
    it = fake.interactions.get(call.params["interaction_token"])
    if it is None or it.id != call.params["interaction_id"]:
        raise RestError(404, 10062, "Unknown interaction")
    if time.monotonic() - it.created > fake.interaction_deadline and not it.acknowledged:
        raise RestError(404, 10062, "Unknown interaction")
    return it


@route(
    create_interaction_response="POST /interactions/{interaction_id}/{interaction_token}/callback",
)
async def callback(fake: FakeDiscord, call: Call) -> Reply:
    """POST /interactions/{id}/{token}/callback: exactly one, valid for the interaction type."""
    it = _interaction(fake, call)
    if it.acknowledged:
        raise RestError(400, 40060, "Interaction has already been acknowledged.")
    kind = int(call.json.get("type", 0))
    data: JSON = call.json.get("data") or {}
    has_message = it.source_message_id is not None
    if kind in (6, 7) and not has_message:
        raise invalid_form("type", "Interaction callback type is not valid for this interaction")
    if kind == 9 and it.type == MODAL_SUBMIT:
        raise invalid_form("type", "A modal cannot answer a modal submit")
    if kind == 8 and it.type != AUTOCOMPLETE:
        raise invalid_form("type", "Autocomplete result for a non-autocomplete interaction")
    if kind not in (4, 5, 6, 7, 8, 9):
        raise invalid_form("type", f"Unsupported callback type {kind}")
    resp: JSON = {"id": it.id, "type": it.type}
    resource: JSON | None = None
    if kind in (4, 5):
        msg = _response_message(fake, it, data, call.files, loading=kind == 5)
        it.original_id = msg.id
        resp.update(
            response_message_id=msg.id,
            response_message_loading=kind == 5,
            response_message_ephemeral=msg.ephemeral,
        )
        if kind == 4:
            resource = {"type": 4, "message": message_json(fake, msg)}
    elif kind == 7:
        source = fake.world.messages[it.source_message_id or ""]
        edit_message(fake, source, data, call.files)
        resource = {"type": 7, "message": message_json(fake, source)}
        resp.update(
            response_message_id=source.id,
            response_message_loading=False,
            response_message_ephemeral=source.ephemeral,
        )
    elif kind == 9:
        if not data.get("custom_id") or not data.get("title"):
            raise invalid_form("data", "Modal needs custom_id and title")
        it.modal = data
    elif kind == 8:
        it.choices = list(data.get("choices") or [])
    it.callback_type = kind
    if kind != 5:
        it.settle()
    fake.notify()
    body: JSON = {"interaction": resp}
    if resource is not None:
        body["resource"] = resource
    if not call.flag("with_response"):
        return Reply.empty()
    return Reply(200, body)


def _app_interaction(fake: FakeDiscord, call: Call) -> InteractionResult | None:
    if call.params["webhook_id"] != fake.app.id:
        return None
    it = fake.interactions.get(call.params["webhook_token"])
    if it is None or time.monotonic() - it.created > TOKEN_LIFETIME:
        raise RestError(404, 10015, "Unknown Webhook")
    return it


def _original(fake: FakeDiscord, it: InteractionResult) -> Message:
    if it.callback_type in (6, 7) and it.source_message_id:
        return fake.world.messages[it.source_message_id]
    msg = fake.world.messages.get(it.original_id or "")
    if msg is None or msg.deleted:
        raise RestError(404, 10008, "Unknown Message")
    return msg


@route(get_original_webhook_message="GET /webhooks/{webhook_id}/{webhook_token}/messages/@original")
async def get_original(fake: FakeDiscord, call: Call) -> Reply:
    """GET /webhooks/{app}/{token}/messages/@original."""
    it = _app_interaction(fake, call)
    if it is None:
        raise RestError(404, 10015, "Unknown Webhook")
    return Reply(200, message_json(fake, _original(fake, it)))


@route(
    update_original_webhook_message=(
        "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    ),
)
async def edit_original(fake: FakeDiscord, call: Call) -> Reply:
    """PATCH @original: edits the response (completing a deferral)."""
    it = _app_interaction(fake, call)
    if it is None:
        raise RestError(404, 10015, "Unknown Webhook")
    msg = _original(fake, it)
    was_loading = bool(msg.flags & LOADING)
    edit_message(fake, msg, call.json, call.files)
    msg.flags &= ~LOADING
    it.edits += 1
    if was_loading or it.callback_type in (5, 6):
        it.settle()
    fake.notify()
    return Reply(200, message_json(fake, msg))


@route(
    delete_original_webhook_message=(
        "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    ),
)
async def delete_original(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE @original."""
    it = _app_interaction(fake, call)
    if it is None:
        raise RestError(404, 10015, "Unknown Webhook")
    msg = _original(fake, it)
    msg.deleted = True
    if not msg.ephemeral:
        d: JSON = {"id": msg.id, "channel_id": msg.channel_id}
        if msg.guild_id:
            d["guild_id"] = msg.guild_id
        fake.dispatch("MESSAGE_DELETE", d, dm=msg.guild_id is None)
    it.settle()
    return Reply.empty()


@route(execute_webhook="POST /webhooks/{webhook_id}/{webhook_token}")
async def execute_webhook(fake: FakeDiscord, call: Call) -> Reply:
    """POST /webhooks/{id}/{token}: a followup for interactions, else a channel webhook post."""
    it = _app_interaction(fake, call)
    if it is None:
        return await execute_channel_webhook(fake, call)
    if not it.acknowledged:
        raise RestError(404, 10015, "Unknown Webhook")
    original = fake.world.messages.get(it.original_id or "")
    loading = original is not None and not original.deleted and original.flags & LOADING
    if it.callback_type == 5 and original is not None and loading:
        # The first followup after a deferral edits the "thinking..." message into the answer
        # (its ephemerality is kept); once that message is deleted, a followup is a new message.
        edit_message(fake, original, call.json, call.files)
        original.flags &= ~LOADING
        it.settle()
        fake.notify()
        return Reply(200, message_json(fake, original)) if call.flag("wait") else Reply.empty()
    flags = int(call.json.get("flags") or 0)
    channel = fake.world.channels[it.channel_id]
    ephemeral = bool(flags & EPHEMERAL)
    msg = _bot_message(fake, it, channel, call.json, call.files, type_=0, ephemeral=ephemeral)
    it.followup_ids.append(msg.id)
    it.settle()
    fake.notify()
    return Reply(200, message_json(fake, msg)) if call.flag("wait") else Reply.empty()


def _followup(fake: FakeDiscord, call: Call) -> tuple[InteractionResult, Message]:
    it = _app_interaction(fake, call)
    if it is None:
        raise RestError(404, 10015, "Unknown Webhook")
    mid = call.params["message_id"]
    if mid not in it.followup_ids and mid != it.original_id:
        raise RestError(404, 10008, "Unknown Message")
    return it, fake.world.messages[mid]


@route(get_webhook_message="GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def get_followup(fake: FakeDiscord, call: Call) -> Reply:
    """GET /webhooks/{app}/{token}/messages/{m}."""
    _, msg = _followup(fake, call)
    return Reply(200, message_json(fake, msg))


@route(update_webhook_message="PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def edit_followup(fake: FakeDiscord, call: Call) -> Reply:
    """PATCH /webhooks/{app}/{token}/messages/{m}."""
    _, msg = _followup(fake, call)
    edit_message(fake, msg, call.json, call.files)
    return Reply(200, message_json(fake, msg))


@route(delete_webhook_message="DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def delete_followup(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE /webhooks/{app}/{token}/messages/{m}."""
    _, msg = _followup(fake, call)
    msg.deleted = True
    return Reply.empty()
