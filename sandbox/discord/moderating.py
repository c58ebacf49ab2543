"""Moderation in Discord's own client (a person bans, unbans, kicks or times out), and the audit
log every such action writes, whoever acted: the bot through REST or a person in the client.

What the bot is sent follows Discord's rules (gateway-events.mdx, audit-log.mdx): the action's
own events first (GUILD_BAN_ADD then GUILD_MEMBER_REMOVE for a ban, GUILD_MEMBER_REMOVE for a
kick, GUILD_MEMBER_UPDATE for a timeout), then GUILD_AUDIT_LOG_ENTRY_CREATE, which names who
acted and why. Ban events reach a bot holding Ban Members or View Audit Log; audit entries only
one holding View Audit Log (both need the GUILD_MODERATION intent). Each audit entry is checked
against the spec's ``AuditLogEntryResponse`` before it is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import payloads
from .permissions import Permission, base_permissions, outranks
from .state import JSON, Ban, Guild, Member, User
from .validate import Violation, _errors

if TYPE_CHECKING:
    from .gateway import Gateway
    from .state import World
    from .validate import SpecValidator

MEMBER_KICK, MEMBER_BAN_ADD, MEMBER_BAN_REMOVE, MEMBER_UPDATE = 20, 22, 23, 24
"""Audit log action types (audit-log.mdx)."""
_ENTRY_SCHEMA = "/components/schemas/AuditLogEntryResponse"
LONGEST_TIMEOUT = dt.timedelta(days=28)


class Moderating:
    """FakeDiscord's audit log, and its test API for a person moderating in the client."""

    world: World
    bot: User
    gateway: Gateway
    validator: SpecValidator | None

    def dispatch(
        self, event: str, data: Any, *, guild_id: str | None = None, dm: bool = False
    ) -> None:
        """Provided by the server."""
        raise NotImplementedError

    def add_violation(self, violation: Violation) -> None:
        """Provided by the server."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the audit log
    def audit(
        self,
        guild: Guild,
        action_type: int,
        *,
        by: str,
        target: str,
        reason: str | None = None,
        changes: list[JSON] | None = None,
    ) -> JSON:
        """Write an audit log entry and send it to the bot if it may see the audit log."""
        entry: JSON = {
            "id": self.world.new_id(),
            "action_type": action_type,
            "user_id": by,
            "target_id": target,
        }
        if changes:
            entry["changes"] = changes
        if reason:
            entry["reason"] = reason
        guild.audit_log.append(entry)
        if self.validator is not None:
            problem = _errors(self.validator.spec.validator(_ENTRY_SCHEMA, "response"), entry)
            if problem is not None:
                self.add_violation(
                    Violation(
                        "gateway-payload", "GATEWAY", "GUILD_AUDIT_LOG_ENTRY_CREATE", None, problem
                    )
                )
        if base_permissions(guild, self.bot.id) & Permission.VIEW_AUDIT_LOG:
            self.dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE", {**entry, "guild_id": guild.id})
        return entry

    def ban_event(self, guild: Guild, event: str, user: User) -> None:
        """GUILD_BAN_ADD/REMOVE, sent only to a bot holding Ban Members or View Audit Log."""
        if base_permissions(guild, self.bot.id) & (
            Permission.BAN_MEMBERS | Permission.VIEW_AUDIT_LOG
        ):
            self.dispatch(event, {"guild_id": guild.id, "user": payloads.user(user)})

    # ------------------------------------------------------------------ people moderating
    def _may(self, guild: Guild, moderator: User, permission: int, target: User | None) -> None:
        """The client refuses what Discord would: the permission, and a target ranked below."""
        perms = base_permissions(guild, moderator.id)
        if not perms & (permission | Permission.ADMINISTRATOR):
            raise PermissionError(f"{moderator.username} lacks the permission")
        ranked = target is not None and target.id in guild.members
        if target is not None and ranked and not outranks(guild, moderator.id, target.id):
            raise PermissionError(f"{target.username} ranks level with or above them")

    async def moderator_bans(
        self, moderator: User, guild: Guild, target: User, *, reason: str | None = None
    ) -> None:
        """A person bans a user from the client's member list."""
        self._may(guild, moderator, Permission.BAN_MEMBERS, target)
        guild.bans[target.id] = Ban(target.id, reason, 0)
        self.ban_event(guild, "GUILD_BAN_ADD", target)
        if guild.members.pop(target.id, None) is not None:
            user = payloads.user(target)
            self.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": guild.id, "user": user})
        self.audit(guild, MEMBER_BAN_ADD, by=moderator.id, target=target.id, reason=reason)

    async def moderator_unbans(
        self, moderator: User, guild: Guild, target: User, *, reason: str | None = None
    ) -> None:
        """A person revokes a ban in Server Settings → Bans."""
        self._may(guild, moderator, Permission.BAN_MEMBERS, None)
        if guild.bans.pop(target.id, None) is None:
            raise ValueError(f"{target.username} is not banned")
        self.ban_event(guild, "GUILD_BAN_REMOVE", target)
        self.audit(guild, MEMBER_BAN_REMOVE, by=moderator.id, target=target.id, reason=reason)

    async def moderator_kicks(
        self, moderator: User, guild: Guild, target: User, *, reason: str | None = None
    ) -> None:
        """A person kicks a member (the bot sees only a member leaving, then the audit entry)."""
        self._may(guild, moderator, Permission.KICK_MEMBERS, target)
        if guild.members.pop(target.id, None) is None:
            raise ValueError(f"{target.username} is not a member")
        user = payloads.user(target)
        self.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": guild.id, "user": user})
        self.audit(guild, MEMBER_KICK, by=moderator.id, target=target.id, reason=reason)

    async def moderator_times_out(
        self,
        moderator: User,
        guild: Guild,
        target: User,
        until: dt.datetime | None,
        *,
        reason: str | None = None,
    ) -> None:
        """A person times a member out until ``until`` (None: removes the timeout)."""
        self._may(guild, moderator, Permission.MODERATE_MEMBERS, target)
        member: Member = guild.members[target.id]
        if base_permissions(guild, target.id) & Permission.ADMINISTRATOR:
            raise PermissionError("administrators cannot be timed out")
        if until is not None and until > dt.datetime.now(dt.UTC) + LONGEST_TIMEOUT:
            raise ValueError("a timeout lasts at most 28 days")
        before = member.communication_disabled_until
        member.communication_disabled_until = until.isoformat() if until is not None else None
        self.dispatch(
            "GUILD_MEMBER_UPDATE", {**payloads.member(self.world, member), "guild_id": guild.id}
        )
        self.audit(
            guild,
            MEMBER_UPDATE,
            by=moderator.id,
            target=target.id,
            reason=reason,
            changes=[timeout_change(before, member.communication_disabled_until)],
        )


def timeout_change(before: str | None, after: str | None) -> JSON:
    """The audit change of a member's timeout (absent values are left out, as Discord does)."""
    change: JSON = {"key": "communication_disabled_until"}
    if after is not None:
        change["new_value"] = after
    if before is not None:
        change["old_value"] = before
    return change
