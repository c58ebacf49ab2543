"""Engagement settings, per community."""

from __future__ import annotations

from pydantic import Field

from bot.core import ChannelRef, FeatureSettings, RoleRef, UserRef


class EngagementSettings(FeatureSettings):
    """What engagement tracks, who counts as staff, and where the weekly digest goes."""

    staff_role: RoleRef | None = None
    """Members with this role count as staff (besides moderators, admins and the owner)."""

    digest_channel: ChannelRef | None = None
    """Where the weekly digest is posted (none: no channel post)."""

    greet_intros: bool = False
    """Point members at each newcomer's intro in the digest channel, so someone answers it
    (needs onboarding)."""

    digest_dms: tuple[UserRef, ...] = ()
    """Managers who get the weekly digest as a direct message (none: no DMs)."""

    digest_weekday: int = Field(0, ge=0, le=6)
    """The digest's day of the week in the community's time zone (0 Monday .. 6 Sunday)."""

    digest_hour: int = Field(9, ge=0, le=23)
    """The digest's hour in the community's time zone (0-23)."""

    raw_retention_days: int = Field(400, ge=30, le=3650)
    """How long raw events are kept; the daily rollups are kept longer."""
