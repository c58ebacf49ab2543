"""The funnel chart as a manager reads it: whole numbers of members, every bar's count written
(zero steps too), week labels that do not overlap, the legend beside the bars. Measured on the
drawn figure (matplotlib gives every text's box on the canvas)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from cogs.onboarding._chart import LABELLED_WEEKS, funnel_figure
from cogs.onboarding._funnel import Cohort


def _cohorts(weeks: int) -> list[Cohort]:
    # Small counts (where ticks would fall at 0.25 members), with zero steps.
    return [
        Cohort(date(2026, 1, 5) + timedelta(weeks=n), (2, 1, n % 2, 0, 1 if n % 3 else 0, 0))
        for n in range(weeks)
    ]


def _drawn(fig: Any) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _boxes(texts: list[Any], renderer: Any) -> list[Any]:
    return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]


def _apart(boxes: list[Any]) -> bool:
    ordered = sorted(boxes, key=lambda b: b.x0)
    return not any(a.overlaps(b) for a, b in itertools.pairwise(ordered))


@pytest.mark.parametrize("weeks", [1, 9, 26])
def test_the_funnel_reads_in_whole_members_with_every_count_written(weeks: int) -> None:
    cohorts = _cohorts(weeks)
    fig = funnel_figure(cohorts)
    renderer = _drawn(fig)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks)
    weeks_named = _boxes(ax.get_xticklabels(), renderer)
    assert 1 <= len(weeks_named) <= 8 and _apart(weeks_named)
    legend = fig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    if weeks > LABELLED_WEEKS:
        return
    written = [t.get_text() for t in ax.texts]
    by_stage = [str(c.counts[i]) for i in range(6) for c in cohorts]
    assert written == by_stage  # zero steps show as 0
    numbers = _boxes(ax.texts, renderer)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(numbers, 2))
