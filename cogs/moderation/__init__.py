"""Moderation: numbered cases, warnings and notes; automod, the ladder and who may act on whom."""

from cogs.moderation.feature import Moderation

FEATURE = Moderation

__all__ = ["FEATURE", "Moderation"]
