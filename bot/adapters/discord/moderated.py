"""Moderation done in Discord's own client, as core events (:class:`ModeratedInClient`).

The audit log is the source when Steward may read it (View Audit Log): each entry names who
acted and why, and kicks are seen nowhere else. Entries written by Steward itself are skipped,
so its own bans and timeouts never come back as someone else's. Without View Audit Log, bans,
unbans and timeouts come from their own gateway events with the moderator unknown (the
moderation feature recognises its own actions there by the case it opened first), and kicks
are not seen: to the gateway a kick looks like a member leaving.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.adapters.discord.convert import community
from bot.core.events import ModeratedInClient
from bot.core.ids import UserRef

_ACTIONS = {
    discord.AuditLogAction.ban: "ban",
    discord.AuditLogAction.unban: "unban",
    discord.AuditLogAction.kick: "kick",
    discord.AuditLogAction.member_update: "timeout",
}


def reads_audit_log(guild: discord.Guild) -> bool:
    """Whether Steward may read the guild's audit log (and so is sent its entries)."""
    return guild.me is not None and guild.me.guild_permissions.view_audit_log


def from_entry(entry: discord.AuditLogEntry, me: int | None) -> ModeratedInClient | None:
    """The event for an audit entry of a ban, unban, kick or timeout someone else made."""
    action = _ACTIONS.get(entry.action)
    target = entry.target
    if action is None or entry.user_id is None or entry.user_id == me or target is None:
        return None
    until: datetime | None = None
    if action == "timeout":
        if not hasattr(entry.changes.after, "timed_out_until"):
            return None  # a nickname or another change, not a timeout
        until = entry.changes.after.timed_out_until
        action = "timeout" if until is not None else "untimeout"
    where = community(entry.guild.id)
    return ModeratedInClient(
        community=where,
        at=entry.created_at,
        action=action,
        user=UserRef(where, str(target.id)),
        by=UserRef(where, str(entry.user_id)),
        reason=entry.reason,
        until=until,
        source=str(entry.id),
    )


def without_audit(
    guild: discord.Guild, user: discord.abc.Snowflake, action: str, until: datetime | None = None
) -> ModeratedInClient | None:
    """A ban, unban or timeout from its own event, when the audit log can't say who did it."""
    if reads_audit_log(guild):
        return None  # the audit entry will say it, with who and why
    where = community(guild.id)
    return ModeratedInClient(
        community=where,
        at=datetime.now(UTC),
        action=action,
        user=UserRef(where, str(user.id)),
        by=None,
        until=until,
    )


def timeout_changed(before: discord.Member, after: discord.Member) -> ModeratedInClient | None:
    """A member timed out or let talk again, seen in a member update (without the audit log)."""
    if before.timed_out_until == after.timed_out_until:
        return None
    action = "timeout" if after.timed_out_until is not None else "untimeout"
    return without_audit(after.guild, after, action, after.timed_out_until)
