"""The funnel as a PNG bar chart (matplotlib, Agg backend: no display needed), drawn to be read
as the engagement charts are: whole numbers on the count axis, every bar's count written on it
(a zero step shows as 0), week labels that never overlap, the legend beside the bars."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from cogs.onboarding._funnel import STAGES, Cohort

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LABELLED_WEEKS = 12
"""Bars carry their count up to this many weekly cohorts (beyond, the numbers would touch)."""
WEEK_LABELS = 8
"""At most this many week labels; with more cohorts every n-th week is named."""


def funnel_figure(cohorts: list[Cohort]) -> Figure:
    """Grouped bars: one group per weekly cohort, one bar per stage."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    width_in = min(14.0, max(8.0, 3.0 + 0.9 * len(cohorts)))
    figure = Figure(figsize=(width_in, 4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / len(STAGES)
    for i, (_key, label) in enumerate(STAGES):
        xs = [n + i * width for n in range(len(cohorts))]
        counts = [c.counts[i] for c in cohorts]
        bars = axes.bar(xs, counts, width=width, label=label)
        if len(cohorts) <= LABELLED_WEEKS:
            axes.bar_label(bars, labels=[str(n) for n in counts], fontsize=7, padding=1)
    step = math.ceil(len(cohorts) / WEEK_LABELS)
    axes.set_xticks([n + 0.4 - width / 2 for n in range(len(cohorts))])
    axes.set_xticklabels(
        [f"{c.week:%Y-%m-%d}" if n % step == 0 else "" for n, c in enumerate(cohorts)]
    )
    axes.set_xlabel("members who joined in the week of")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([n for c in cohorts for n in c.counts] + [1]) * 1.15)
    axes.set_ylabel("members")
    axes.set_title("Onboarding funnel by weekly cohort")
    figure.legend(loc="outside right upper", frameon=False, fontsize="small")
    return figure


def funnel_png(cohorts: list[Cohort]) -> bytes:
    """The funnel chart as PNG bytes."""
    buffer = io.BytesIO()
    funnel_figure(cohorts).savefig(buffer, format="png")
    return buffer.getvalue()
