"""The built-in ``/steward`` feature."""

from bot.builtin.feature import Steward

FEATURE = Steward

__all__ = ["FEATURE", "Steward"]
