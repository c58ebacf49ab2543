"""The funnel as a PNG bar chart (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io

from cogs.onboarding._funnel import STAGES, Cohort


def funnel_png(cohorts: list[Cohort]) -> bytes:
    """Grouped bars: one group per weekly cohort, one bar per stage."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    width = 0.8 / len(STAGES)
    for i, (_key, label) in enumerate(STAGES):
        xs = [n + i * width for n in range(len(cohorts))]
        axes.bar(xs, [c.counts[i] for c in cohorts], width=width, label=label)
    axes.set_xticks([n + 0.4 - width / 2 for n in range(len(cohorts))])
    axes.set_xticklabels([f"week of {c.week:%b %d}" for c in cohorts])
    axes.set_ylabel("members")
    axes.set_title("Onboarding funnel by weekly cohort")
    axes.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
