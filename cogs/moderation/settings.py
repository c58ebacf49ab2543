"""Moderation settings, per community."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core import ChannelRef, FeatureSettings, RoleRef
from cogs.moderation._escalation import parse_steps


class ModerationSettings(FeatureSettings):
    """Where cases are logged and what a member is told."""

    modlog_channel: ChannelRef | None = None
    """Where a post is made for each case and each change to it (none: no mod-log)."""

    warn_points: int = 1
    """Points a warning carries on the escalation ladder."""

    points_decay_days: int = 30
    """How long a case's points count on the escalation ladder."""

    ladder_steps: str = "3 timeout 1d, 5 kick, 8 ban"
    """The escalation ladder's steps: live points reached -> what happens, like
    `3 timeout 1d, 5 kick, 8 ban` (empty: the ladder takes no steps)."""

    appeal_hint: str = (
        "If you think this is a mistake, press Appeal below (once) and tell the moderators why."
    )
    """The last line of every notice a member gets about an action on them (a warning,
    timeout, kick or ban carries the Appeal button)."""

    slack_remove_from_channels: bool = False
    """On Slack, a kick or ban also takes the member out of every channel Steward is in
    (conversations.kick), while a workspace admin deactivates the account."""

    reports_per_day: int = 5
    """How many reports one member may make in a day."""

    ack_after_minutes: int = 15
    """A report nobody acknowledges within this is raised to all moderators (the community's
    moderator role), and after twice this to ``admin_role``."""

    admin_role: RoleRef | None = None
    """Who hears last about a report nobody took (none: the admins are named, not pinged)."""

    escalation_channel: ChannelRef | None = None
    """Where members' problems escalated to the team are posted (none: the staff channel)."""

    evidence_retention_days: int = Field(90, ge=1, le=3650)
    """Message text kept on cases as evidence is removed after this many days (the case stays,
    marked "evidence removed after N days")."""

    @field_validator("ladder_steps")
    @classmethod
    def _steps_read(cls, value: str) -> str:
        parse_steps(value)  # ValueError says what is wrong, to the manager
        return value.strip()
