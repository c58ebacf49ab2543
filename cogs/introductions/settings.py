"""Introductions' simple per-community values; the pool, rounds and lists live in its tables."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, field_validator

from bot.core import ChannelRef, FeatureSettings
from bot.core.errors import UserError
from cogs.introductions._rounds import parse_cadence


class IntroductionsSettings(FeatureSettings):
    """When rounds happen, how big groups are, and whom they bring together."""

    cadence: str = Field("weekly", max_length=60)
    """How often rounds start: weekly, every 2 or 4 weeks, mon,thu, or every 2 weeks on tue."""

    round_time: time = time(10, 0)
    """The local time (the community's time zone) rounds start at, outside quiet hours."""

    group_size: int = Field(2, ge=2, le=8)
    """People per group (an odd member out makes one group a size bigger, never a single)."""

    mode: Literal["random", "interest", "cross"] = "random"
    """random; interest: people who share an interest from onboarding meet (the rest as in
    random); or cross: newcomers (see newcomer_days) meet established members first."""

    newcomer_days: int = Field(30, ge=1, le=365)
    """In cross mode: members who joined within this many days count as newcomers."""

    history_rounds: int = Field(8, ge=0, le=52)
    """Members are not put together again within this many rounds."""

    thread_channel: ChannelRef | None = None
    """Discord: the channel whose private threads hold the groups' conversations."""

    pool_channel: ChannelRef | None = None
    """Everyone in this channel is in the pool (Discord: who can view it), unless they left it
    with `/introductions leave` or are paused; `join` still adds members from elsewhere."""

    offer_newcomers: bool = False
    """Offer newcomers a place in the pool (a DM with a Join button) once they finish onboarding."""

    thanks_channel: ChannelRef | None = None
    """Where thank-yous appear when both members agree (none: thank-yous stay private)."""

    @field_validator("cadence")
    @classmethod
    def _readable(cls, value: str) -> str:
        try:
            return parse_cadence(value).describe()
        except UserError as exc:
            raise ValueError(str(exc)) from None
