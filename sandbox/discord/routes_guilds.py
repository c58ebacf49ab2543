"""REST: guilds, members, roles, bans: with Discord's permission and hierarchy checks."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import payloads
from .moderating import (
    MEMBER_BAN_ADD,
    MEMBER_BAN_REMOVE,
    MEMBER_KICK,
    MEMBER_UPDATE,
    timeout_change,
)
from .permissions import Permission, base_permissions, outranks, top_role_position
from .rest import Call, Reply, RestError, invalid_form, route
from .routes_common import (
    as_int,
    guild_or_404,
    member_or_404,
    missing_permissions,
    require_in_guild,
)
from .state import JSON, Ban, Guild, Member

if TYPE_CHECKING:
    from .server import FakeDiscord


def _member_update(fake: FakeDiscord, guild: Guild, member: Member) -> None:
    fake.dispatch(
        "GUILD_MEMBER_UPDATE", {**payloads.member(fake.world, member), "guild_id": guild.id}
    )


def _check_target(fake: FakeDiscord, guild: Guild, target_id: str) -> None:
    """The target's top role must be strictly below the bot's, and never the owner."""
    if not outranks(guild, fake.bot.id, target_id):
        raise missing_permissions()


def _check_role(fake: FakeDiscord, guild: Guild, role_id: str) -> None:
    role = guild.roles.get(role_id)
    if role is None:
        raise RestError(404, 10011, "Unknown Role")
    if role.managed or role.id == guild.id:
        raise missing_permissions()
    if guild.owner_id != fake.bot.id and role.position >= top_role_position(guild, fake.bot.id):
        raise missing_permissions()


@route(get_guild="GET /guilds/{guild_id}")
async def get_guild(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}."""
    guild = guild_or_404(fake, call.params["guild_id"])
    body = payloads.guild_create(fake.world, guild, fake.bot.id, [])
    for key in (
        "channels",
        "threads",
        "members",
        "voice_states",
        "presences",
        "joined_at",
        "member_count",
        "large",
        "unavailable",
        "stage_instances",
        "guild_scheduled_events",
        "soundboard_sounds",
    ):
        body.pop(key, None)
    body.update(
        region="us-east",
        nsfw=False,
        application_id=None,
        rules_channel_id=None,
        public_updates_channel_id=None,
        vanity_url_code=None,
        discovery_splash=None,
        premium_subscription_count=0,
        widget_enabled=False,
        widget_channel_id=None,
        system_channel_flags=0,
        max_presences=None,
        max_members=500000,
        max_video_channel_users=25,
        max_stage_video_channel_users=50,
        premium_progress_bar_enabled=False,
        safety_alerts_channel_id=None,
        home_header=None,
        incidents_data=None,
    )
    return Reply(200, body)


@route(list_guild_channels="GET /guilds/{guild_id}/channels")
async def list_channels(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/channels: the guild's channels, threads not included."""
    guild = guild_or_404(fake, call.params["guild_id"])
    body = [payloads.channel(fake.world, c) for c in guild.channels.values() if not c.is_thread]
    return Reply(200, body)


@route(get_guild_member="GET /guilds/{guild_id}/members/{user_id}")
async def get_member(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/members/{u}."""
    guild = guild_or_404(fake, call.params["guild_id"])
    member = member_or_404(guild, call.params["user_id"])
    return Reply(200, payloads.member(fake.world, member))


@route(list_guild_members="GET /guilds/{guild_id}/members")
async def list_members(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/members?limit&after (ordered by user id)."""
    guild = guild_or_404(fake, call.params["guild_id"])
    limit = min(max(as_int(call.q("limit"), 1), 1), 1000)
    after = as_int(call.q("after"), 0)
    members = sorted(guild.members.values(), key=lambda m: int(m.user_id))
    members = [m for m in members if int(m.user_id) > after][:limit]
    return Reply(200, [payloads.member(fake.world, m) for m in members])


@route(
    add_guild_member_role="PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
    delete_guild_member_role="DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
)
async def member_role(fake: FakeDiscord, call: Call) -> Reply:
    """PUT/DELETE /guilds/{g}/members/{u}/roles/{r}: MANAGE_ROLES and role below the bot's top."""
    guild = guild_or_404(fake, call.params["guild_id"])
    member = member_or_404(guild, call.params["user_id"])
    require_in_guild(fake, guild, Permission.MANAGE_ROLES)
    role_id = call.params["role_id"]
    _check_role(fake, guild, role_id)
    if member.user_id != fake.bot.id:
        _check_target(fake, guild, member.user_id)
    changed = False
    if call.method == "PUT" and role_id not in member.roles:
        member.roles.append(role_id)
        changed = True
    elif call.method == "DELETE" and role_id in member.roles:
        member.roles.remove(role_id)
        changed = True
    if changed:
        _member_update(fake, guild, member)
    return Reply.empty()


@route(update_guild_member="PATCH /guilds/{guild_id}/members/{user_id}")
async def update_member(fake: FakeDiscord, call: Call) -> Reply:
    """PATCH /guilds/{g}/members/{u}: nick, roles, timeout (each with its permission)."""
    guild = guild_or_404(fake, call.params["guild_id"])
    member = member_or_404(guild, call.params["user_id"])
    body = call.json
    perms = base_permissions(guild, fake.bot.id)
    is_self = member.user_id == fake.bot.id
    if "nick" in body:
        needed = Permission.CHANGE_NICKNAME if is_self else Permission.MANAGE_NICKNAMES
        if not perms & needed:
            raise missing_permissions()
        if not is_self:
            _check_target(fake, guild, member.user_id)
        member.nick = body["nick"] or None
    if "roles" in body and body["roles"] is not None:
        if not perms & Permission.MANAGE_ROLES:
            raise missing_permissions()
        new = [str(r) for r in body["roles"]]
        for rid in set(new) ^ set(member.roles):
            _check_role(fake, guild, rid)
        if not is_self:
            _check_target(fake, guild, member.user_id)
        member.roles = new
    if "communication_disabled_until" in body:
        until = body["communication_disabled_until"]
        if not perms & Permission.MODERATE_MEMBERS:
            raise missing_permissions()
        _check_target(fake, guild, member.user_id)
        if base_permissions(guild, member.user_id) & Permission.ADMINISTRATOR:
            raise missing_permissions()
        if until is not None:
            when = dt.datetime.fromisoformat(until)
            if when > dt.datetime.now(dt.UTC) + dt.timedelta(days=28, minutes=1):
                raise invalid_form(
                    "communication_disabled_until", "Timeout cannot be more than 28 days ahead"
                )
        before = member.communication_disabled_until
        member.communication_disabled_until = until
    _member_update(fake, guild, member)
    if "communication_disabled_until" in body:
        change = timeout_change(before, member.communication_disabled_until)
        fake.audit(
            guild,
            MEMBER_UPDATE,
            by=fake.bot.id,
            target=member.user_id,
            reason=call.reason,
            changes=[change],
        )
    return Reply(200, payloads.member(fake.world, member))


@route(delete_guild_member="DELETE /guilds/{guild_id}/members/{user_id}")
async def kick(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE /guilds/{g}/members/{u}: kick (KICK_MEMBERS, hierarchy)."""
    guild = guild_or_404(fake, call.params["guild_id"])
    member = member_or_404(guild, call.params["user_id"])
    require_in_guild(fake, guild, Permission.KICK_MEMBERS)
    _check_target(fake, guild, member.user_id)
    del guild.members[member.user_id]
    user = payloads.user(fake.world.users[member.user_id])
    fake.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": guild.id, "user": user})
    fake.audit(guild, MEMBER_KICK, by=fake.bot.id, target=member.user_id, reason=call.reason)
    return Reply.empty()


@route(ban_user_from_guild="PUT /guilds/{guild_id}/bans/{user_id}")
async def ban(fake: FakeDiscord, call: Call) -> Reply:
    """PUT /guilds/{g}/bans/{u} (BAN_MEMBERS, hierarchy); delete_message_seconds query or body."""
    guild = guild_or_404(fake, call.params["guild_id"])
    user = fake.world.users.get(call.params["user_id"])
    if user is None:
        raise RestError(404, 10013, "Unknown User")
    require_in_guild(fake, guild, Permission.BAN_MEMBERS)
    if user.id in guild.members:
        _check_target(fake, guild, user.id)
    seconds = as_int(call.q("delete_message_seconds") or call.json.get("delete_message_seconds"), 0)
    if not 0 <= seconds <= 604800:
        raise invalid_form("delete_message_seconds", "Must be between 0 and 604800")
    guild.bans[user.id] = Ban(user.id, call.reason, seconds)
    fake.ban_event(guild, "GUILD_BAN_ADD", user)
    if user.id in guild.members:
        del guild.members[user.id]
        fake.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": guild.id, "user": payloads.user(user)})
    fake.audit(guild, MEMBER_BAN_ADD, by=fake.bot.id, target=user.id, reason=call.reason)
    return Reply.empty()


@route(unban_user_from_guild="DELETE /guilds/{guild_id}/bans/{user_id}")
async def unban(fake: FakeDiscord, call: Call) -> Reply:
    """DELETE /guilds/{g}/bans/{u}."""
    guild = guild_or_404(fake, call.params["guild_id"])
    require_in_guild(fake, guild, Permission.BAN_MEMBERS)
    ban_ = guild.bans.pop(call.params["user_id"], None)
    if ban_ is None:
        raise RestError(404, 10026, "Unknown Ban")
    fake.ban_event(guild, "GUILD_BAN_REMOVE", fake.world.users[ban_.user_id])
    fake.audit(guild, MEMBER_BAN_REMOVE, by=fake.bot.id, target=ban_.user_id, reason=call.reason)
    return Reply.empty()


@route(get_guild_ban="GET /guilds/{guild_id}/bans/{user_id}")
async def get_ban(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/bans/{u}."""
    guild = guild_or_404(fake, call.params["guild_id"])
    require_in_guild(fake, guild, Permission.BAN_MEMBERS)
    ban_ = guild.bans.get(call.params["user_id"])
    if ban_ is None:
        raise RestError(404, 10026, "Unknown Ban")
    return Reply(
        200, {"user": payloads.user(fake.world.users[ban_.user_id]), "reason": ban_.reason}
    )


@route(list_guild_bans="GET /guilds/{guild_id}/bans")
async def list_bans(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/bans."""
    guild = guild_or_404(fake, call.params["guild_id"])
    require_in_guild(fake, guild, Permission.BAN_MEMBERS)
    out: list[JSON] = [
        {"user": payloads.user(fake.world.users[b.user_id]), "reason": b.reason}
        for b in guild.bans.values()
    ]
    return Reply(200, out)


@route(list_guild_roles="GET /guilds/{guild_id}/roles")
async def list_roles(fake: FakeDiscord, call: Call) -> Reply:
    """GET /guilds/{g}/roles."""
    guild = guild_or_404(fake, call.params["guild_id"])
    return Reply(200, [payloads.role(r) for r in guild.roles.values()])


@route(list_my_guilds="GET /users/@me/guilds")
async def list_my_guilds(fake: FakeDiscord, call: Call) -> Reply:
    """GET /users/@me/guilds?before&after&limit: the bot's guilds with its base permissions."""
    limit = min(max(as_int(call.q("limit"), 200), 1), 200)
    after, before = as_int(call.q("after"), 0), as_int(call.q("before"), 0)
    guilds = sorted(
        (g for g in fake.world.guilds.values() if fake.bot.id in g.members),
        key=lambda g: int(g.id),
    )
    guilds = [g for g in guilds if int(g.id) > after and (not before or int(g.id) < before)]
    body: list[dict[str, Any]] = [
        {
            "id": g.id,
            "name": g.name,
            "icon": None,
            "banner": None,
            "owner": g.owner_id == fake.bot.id,
            "permissions": str(base_permissions(g, fake.bot.id)),
            "features": [],
        }
        for g in guilds[:limit]
    ]
    return Reply(200, body)
