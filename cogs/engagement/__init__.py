"""Engagement tracking and community health: ``FEATURE`` is what Steward loads.

The feature is imported on first use, not with the package: the engagement writer process
(``python -m bot.writer``) imports only ``cogs.engagement._writer`` and what storing needs, not
the feature with every command, chart and report (and the other features it listens to).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cogs.engagement.feature import Engagement

    FEATURE = Engagement

__all__ = ["FEATURE", "Engagement"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cogs.engagement.feature import Engagement

        return Engagement
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
