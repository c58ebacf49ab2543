"""Onboarding's simple per-community values; richer data lives in its tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from bot.core import ChannelRef, FeatureSettings, RoleRef


class OnboardingSettings(FeatureSettings):
    """Where onboarding happens, who greets, and when nudges come."""

    community_name: str = "our community"
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

    intro_reply_minutes: int = 60
    """Minutes an intro may wait for a reply before the buddy and greeters are pinged."""

    nudge_rules_after: timedelta | None = timedelta(hours=24)
    """Nudge a member who hasn't agreed to the rules after this long (none: never)."""

    nudge_interests_after: timedelta | None = timedelta(days=2)
    """Nudge a member who hasn't picked interests after this long (none: never)."""

    nudge_intro_after: timedelta | None = timedelta(days=3)
    """Nudge a member who hasn't introduced themselves after this long (none: never)."""

    silent_alert_after: timedelta | None = timedelta(days=7)
    """Alert the greeters about a member who hasn't said anything after this long (none: never)."""

    buddy_capacity: int = 3
    """How many newcomers a buddy looks after at once, unless they chose their own number."""

    buddy_check_after: timedelta = timedelta(days=7)
    """How long a newcomer and their buddy have to talk before it counts as missed."""

    rejoin_window: timedelta = timedelta(days=30)
    """A member back within this long keeps their progress and is welcomed back."""
