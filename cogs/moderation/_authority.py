"""Who may act on whom: every refusal decided before any platform call, with the reason (pure).

Discord checks role hierarchy for the bot only, so a bot that does not check for the moderator
becomes a confused deputy (Red-DiscordBot #2127, python-discord/bot #1798). Steward checks both
sides, and its own place, so a refused action never reaches the platform and never earns a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.core import Level

MAX_TIMEOUT = timedelta(days=28)
"""Discord's longest timeout."""


class Act(StrEnum):
    """A moderation action, by the word a moderator types."""

    NOTE = "note"
    WARN = "warn"
    TIMEOUT = "timeout"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    PURGE = "purge"


PLATFORM_ACTS = frozenset({Act.TIMEOUT, Act.KICK, Act.BAN})
"""Acts the platform itself carries out, and so checks against Steward's own role."""

_PAST = {
    Act.NOTE: "noted",
    Act.WARN: "warned",
    Act.TIMEOUT: "timed out",
    Act.KICK: "kicked",
    Act.BAN: "banned",
    Act.UNBAN: "unbanned",
    Act.PURGE: "purged",
}


@dataclass(frozen=True, slots=True)
class Standing:
    """A person's place in a community, as plain values (``top_role``: highest role position)."""

    user: str
    level: Level
    top_role: int = 0
    is_bot: bool = False
    is_owner: bool = False


def refusal(
    act: Act,
    actor: Standing,
    target: Standing,
    steward: Standing,
    *,
    duration: timedelta | None = None,
    needs: Level = Level.MOD,
) -> str | None:
    """Why ``actor`` may not ``act`` on ``target`` (shown only to them), or None when they may."""
    done = _PAST[act]
    if actor.level < needs:
        return f"Only {needs.name.lower()}s and up can have a member {done}."
    if target.user == actor.user:
        return f"You cannot have yourself {done}."
    if target.user == steward.user:
        return f"Steward cannot be {done}."
    if target.is_owner:
        return f"The owner of the community cannot be {done}."
    if target.is_bot:
        return f"Bots cannot be {done}; a server admin manages them."
    if not actor.is_owner and (target.level >= actor.level or target.top_role >= actor.top_role):
        return f"<@{target.user}> stands level with you or above, so you cannot have them {done}."
    if act is Act.TIMEOUT and (
        duration is None or not timedelta(minutes=1) <= duration <= MAX_TIMEOUT
    ):
        return "A timeout lasts from one minute to 28 days (Discord's longest)."
    return beyond_steward(act, target, steward)


def beyond_steward(act: Act, target: Standing, steward: Standing) -> str | None:
    """What the platform itself would refuse Steward, whoever asked (a moderator, an automod
    rule, the escalation ladder), or None."""
    if act not in PLATFORM_ACTS:
        return None
    done = _PAST[act]
    if target.is_owner:
        return f"The owner of the community cannot be {done}."
    if act is Act.TIMEOUT and target.level >= Level.ADMIN:
        return "Discord does not let anyone time out an administrator."
    if steward.top_role <= target.top_role:
        return (
            f"Steward's own role is not above <@{target.user}>'s highest role, so it cannot "
            f"have them {done}. A server admin can move Steward's role higher in the role list."
        )
    return None
