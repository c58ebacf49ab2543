"""REST: the bot's user, its application, the gateway URL and application commands."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import payloads
from .rest import Call, Reply, RestError, invalid_form, route
from .routes_common import guild_or_404
from .state import JSON, Command

if TYPE_CHECKING:
    from .server import FakeDiscord

_NAME = re.compile(r"^[-_\w]{1,32}$")


@route(get_my_user="GET /users/@me")
async def get_my_user(fake: FakeDiscord, call: Call) -> Reply:
    """GET /users/@me."""
    return Reply(200, payloads.me(fake.bot))


@route(get_user="GET /users/{user_id}")
async def get_user(fake: FakeDiscord, call: Call) -> Reply:
    """GET /users/{user_id}."""
    user = fake.world.users.get(call.params["user_id"])
    if user is None:
        raise RestError(404, 10013, "Unknown User")
    return Reply(200, payloads.user(user))


@route(
    get_my_oauth2_application="GET /oauth2/applications/@me",
    get_my_application="GET /applications/@me",
)
async def get_application(fake: FakeDiscord, call: Call) -> Reply:
    """GET /oauth2/applications/@me (and /applications/@me)."""
    owner = fake.world.users[fake.app.owner_id]
    flags = 0
    if fake.app.enabled_privileged_intents & (1 << 1):
        flags |= 1 << 15  # GATEWAY_GUILD_MEMBERS_LIMITED
    if fake.app.enabled_privileged_intents & (1 << 15):
        flags |= 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED
    body: JSON = {
        "id": fake.app.id,
        "name": fake.app.name,
        "icon": None,
        "description": "",
        "type": None,
        "bot": payloads.user(fake.bot),
        "bot_public": False,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": flags,
        "flags_new": str(flags),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": payloads.user(owner),
        "approximate_guild_count": len(fake.world.guilds),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": [],
        "summary": "",
    }
    return Reply(200, body)


@route(get_gateway="GET /gateway")
async def get_gateway(fake: FakeDiscord, call: Call) -> Reply:
    """GET /gateway."""
    return Reply(200, {"url": fake.gateway_url})


@route(get_bot_gateway="GET /gateway/bot")
async def get_bot_gateway(fake: FakeDiscord, call: Call) -> Reply:
    """GET /gateway/bot (used by AutoShardedClient)."""
    limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
    shards = fake.recommended_shards
    return Reply(200, {"url": fake.gateway_url, "shards": shards, "session_start_limit": limit})


def _check_app(fake: FakeDiscord, call: Call) -> None:
    if call.params["application_id"] != fake.app.id:
        raise RestError(403, 50001, "Missing Access")


def _scope(fake: FakeDiscord, call: Call) -> str | None:
    _check_app(fake, call)
    gid = call.params.get("guild_id")
    if gid is not None:
        guild_or_404(fake, gid)
    return gid


def _validate_command(index: int, cmd: JSON) -> None:
    where = f"{index}"
    name = cmd.get("name", "")
    ctype = cmd.get("type", 1) or 1
    # Slash commands: lower case, no spaces. User and message commands (context menus) may
    # be mixed case and include spaces (Discord's docs, "Application Command Naming").
    valid = _NAME.match(name) and name == name.lower() if ctype == 1 else 1 <= len(name) <= 32
    if not valid:
        raise invalid_form(
            f"{where}.name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME"
        )
    desc = cmd.get("description") or ""
    if ctype == 1 and not 1 <= len(desc) <= 100:
        raise invalid_form(f"{where}.description", "Must be between 1 and 100 in length.")
    _validate_options(f"{where}.options", cmd.get("options") or [])


def _validate_options(where: str, options: list[JSON]) -> None:
    if len(options) > 25:
        raise invalid_form(where, "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    seen_optional = False
    for i, opt in enumerate(options):
        if not _NAME.match(opt.get("name", "")) or opt["name"] != opt["name"].lower():
            raise invalid_form(
                f"{where}.{i}.name", "Invalid option name", "APPLICATION_COMMAND_INVALID_NAME"
            )
        if not 1 <= len(opt.get("description") or "") <= 100:
            raise invalid_form(f"{where}.{i}.description", "Must be between 1 and 100 in length.")
        if opt.get("type") in (1, 2):
            _validate_options(f"{where}.{i}.options", opt.get("options") or [])
            continue
        if opt.get("required"):
            if seen_optional:
                raise invalid_form(
                    f"{where}.{i}",
                    "Required options must be placed before non-required options",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                )
        else:
            seen_optional = True
        if len(opt.get("choices") or []) > 25:
            raise invalid_form(f"{where}.{i}.choices", "Must be 25 or fewer in length.")


def _command_json(fake: FakeDiscord, cmd: Command) -> JSON:
    # Discord echoes the command normalised: unset fields are omitted, not null.
    out = {k: v for k, v in cmd.payload.items() if v is not None}
    out.setdefault("integration_types", [0])
    out.update(id=cmd.id, application_id=fake.app.id, version=cmd.payload.get("version", cmd.id))
    out.setdefault("type", 1)
    out.setdefault("description", "")
    out.setdefault("default_member_permissions", None)
    if isinstance(out["default_member_permissions"], int):
        # discord.py sends the bit set as a number; Discord answers it as a string.
        out["default_member_permissions"] = str(out["default_member_permissions"])
    if cmd.guild_id:
        out["guild_id"] = cmd.guild_id
    return out


@route(
    bulk_set_application_commands="PUT /applications/{application_id}/commands",
    bulk_set_guild_application_commands=(
        "PUT /applications/{application_id}/guilds/{guild_id}/commands"
    ),
)
async def bulk_set_commands(fake: FakeDiscord, call: Call) -> Reply:
    """PUT /applications/{app}/[guilds/{g}/]commands: replace the whole scope."""
    scope = _scope(fake, call)
    body = call.body if isinstance(call.body, list) else []
    if len([c for c in body if (c.get("type") or 1) == 1]) > 100:
        raise invalid_form("_", "Maximum number of application commands reached (100)")
    seen: set[tuple[str, int]] = set()
    for i, c in enumerate(body):
        _validate_command(i, c)
        key = (c["name"], c.get("type") or 1)
        if key in seen:
            raise invalid_form(
                f"{i}.name",
                "Application command names must be unique",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
            )
        seen.add(key)
    previous = {(c.name, c.type): c for c in fake.app.commands.get(scope, [])}
    stored = []
    for c in body:
        old = previous.get((c["name"], c.get("type") or 1))
        cid = old.id if old else fake.world.new_id()
        payload = {**c, "type": c.get("type") or 1, "version": fake.world.new_id()}
        stored.append(Command(cid, scope, payload))
    fake.app.commands[scope] = stored
    return Reply(200, [_command_json(fake, c) for c in stored])


@route(
    list_application_commands="GET /applications/{application_id}/commands",
    list_guild_application_commands="GET /applications/{application_id}/guilds/{guild_id}/commands",
)
async def list_commands(fake: FakeDiscord, call: Call) -> Reply:
    """GET /applications/{app}/[guilds/{g}/]commands."""
    scope = _scope(fake, call)
    return Reply(200, [_command_json(fake, c) for c in fake.app.commands.get(scope, [])])


@route(
    create_application_command="POST /applications/{application_id}/commands",
    create_guild_application_command=(
        "POST /applications/{application_id}/guilds/{guild_id}/commands"
    ),
)
async def create_command(fake: FakeDiscord, call: Call) -> Reply:
    """POST a single command (upsert by name and type)."""
    scope = _scope(fake, call)
    _validate_command(0, call.json)
    cmds = fake.app.commands.setdefault(scope, [])
    ctype = call.json.get("type") or 1
    old = next((c for c in cmds if c.name == call.json["name"] and c.type == ctype), None)
    payload = {**call.json, "type": ctype, "version": fake.world.new_id()}
    if old is not None:
        old.payload = payload
        return Reply(200, _command_json(fake, old))
    cmd = Command(fake.world.new_id(), scope, payload)
    cmds.append(cmd)
    return Reply(201, _command_json(fake, cmd))


@route(
    delete_application_command="DELETE /applications/{application_id}/commands/{command_id}",
    delete_guild_application_command=(
        "DELETE /applications/{application_id}/guilds/{guild_id}/commands/{command_id}"
    ),
)
async def delete_command(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE a single command."""
    scope = _scope(fake, call)
    cmds = fake.app.commands.get(scope, [])
    for c in cmds:
        if c.id == call.params["command_id"]:
            cmds.remove(c)
            return Reply.empty()
    raise RestError(404, 10063, "Unknown application command")
