"""Announcements: brand feeds and signed webhooks relayed into community channels."""

from cogs.announcements.feature import Announcements

FEATURE = Announcements

__all__ = ["FEATURE", "Announcements"]
