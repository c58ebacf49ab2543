"""Introductions: members meet each other in small groups, round after round, on both platforms."""

from cogs.introductions.feature import Introductions

FEATURE = Introductions

__all__ = ["FEATURE", "Introductions"]
