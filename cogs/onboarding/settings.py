"""Onboarding's simple per-community values; richer data lives in its tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from bot.core import ChannelRef, FeatureSettings, RoleRef

_MINUTE = timedelta(minutes=1)
Wait = Annotated[timedelta, Field(ge=_MINUTE, le=timedelta(weeks=52))]
"""A delay a manager sets: at least a minute, at most a year."""


class OnboardingSettings(FeatureSettings):
    """Where onboarding happens, who greets, and when nudges come."""

    community_name: str = Field("our community", min_length=1, max_length=100)
    """The community's name as welcome messages say it (the `{community}` field)."""

    welcome_channel: ChannelRef | None = None
    """Where newcomers are welcomed in public; nudges fall back here when DMs are closed."""

    welcome_where: Literal["both", "channel", "dm"] = "both"
    """Welcome in the welcome channel, by DM, or both."""

    intro_channel: ChannelRef | None = None
    """Where newcomers introduce themselves; their first post there is their intro."""

    rules_role: RoleRef | None = None
    """Discord: the role given when a member agrees to the rules (opens gated channels)."""

    newcomer_role: RoleRef | None = None
    """Discord: a role given on join and taken away when the member agrees to the rules."""

    rules_channels: tuple[ChannelRef, ...] = ()
    """Slack: channels a member is invited to when they agree to the rules."""

    greeter_role: RoleRef | None = None
    """The greeters: a Discord role or a Slack user group, pinged for unanswered intros."""

    greeters_channel: ChannelRef | None = None
    """Where greeters (and managers) are alerted: silent members, closed DMs, setup problems."""

    intro_reply_after: Wait = timedelta(hours=1)
    """How long an intro may wait for a reply before the buddy and greeters are pinged."""

    nudge_rules_after: Wait | None = timedelta(hours=24)
    """Nudge a member who hasn't agreed to the rules after this long (none: never)."""

    nudge_interests_after: Wait | None = timedelta(days=2)
    """Nudge a member who hasn't picked interests after this long (none: never)."""

    nudge_intro_after: Wait | None = timedelta(days=3)
    """Nudge a member who hasn't introduced themselves after this long (none: never)."""

    silent_alert_after: Wait | None = timedelta(days=7)
    """Alert the greeters about a member who hasn't said anything after this long (none: never)."""

    buddy_capacity: int = Field(3, ge=1, le=50)
    """How many newcomers a buddy looks after at once, unless they chose their own number."""

    buddy_check_after: Wait = timedelta(days=7)
    """How long a newcomer and their buddy have to talk before it counts as missed."""

    rejoin_window: Wait = timedelta(days=30)
    """A member back within this long keeps their progress and is welcomed back."""

    @model_validator(mode="before")
    @classmethod
    def _old_minutes(cls, data: Any) -> Any:
        # Rows written before intro_reply_after replaced intro_reply_minutes keep their value.
        if isinstance(data, dict) and "intro_reply_minutes" in data:
            data = dict(data)
            minutes = data.pop("intro_reply_minutes")
            if isinstance(minutes, int) and "intro_reply_after" not in data:
                data["intro_reply_after"] = timedelta(minutes=max(minutes, 1))
        return data
