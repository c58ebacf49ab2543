"""Onboarding: welcome, rules, interests, intros, nudges, buddies, funnel and preview."""

from cogs.onboarding.feature import Onboarding

FEATURE = Onboarding

__all__ = ["FEATURE", "Onboarding"]
