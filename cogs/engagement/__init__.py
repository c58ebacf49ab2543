"""Engagement tracking and community health: ``FEATURE`` is what Steward loads."""

from cogs.engagement.feature import Engagement

FEATURE = Engagement

__all__ = ["FEATURE", "Engagement"]
