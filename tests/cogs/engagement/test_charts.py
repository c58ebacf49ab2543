"""The charts as a reader sees them: labels that do not overlap, whole numbers on count axes,
every bar's value written, the legend beside the data. Measured on the drawn figure (matplotlib
gives every text's box on the canvas)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from cogs.engagement._charts import activity_figure, sentiment_figure
from cogs.engagement._metrics import Period
from cogs.engagement._questions import Answers
from cogs.engagement._repo import Figures

FIRST = 20458  # Monday 2026-01-05


def _figures(days: int) -> Figures:
    period = Period(FIRST, FIRST + days - 1)
    each = range(period.first, period.last + 1)
    return Figures(
        period=period,
        channel=None,
        daily_active={d: 1 + (d * 7) % 5 for d in each},
        active=9,
        communicators=8,
        wau=5,
        mau=9,
        stickiness=0.3,
        messages=0,
        reactions=0,
        replies=0,
        p2p_ratio=None,
        new_members=0,
        departures=0,
        never_posted=0,
        cohorts=[],
        answers=Answers(0, 0, None, 0, 0, 0, []),
        connected=[],
        largest_group=0,
        bridges=[],
        sentiment={d: ((d * 13) % 11 - 5) / 6 for d in each},
        daily_messages={d: (d * 17) % 23 for d in each},
    )


def _drawn(fig: Any) -> Any:
    """Draw the figure as the PNG is drawn (Agg, constrained layout) and return the renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _boxes(labels: list[Any], renderer: Any) -> list[Any]:
    return [t.get_window_extent(renderer) for t in labels if t.get_visible() and t.get_text()]


@pytest.mark.parametrize("days", [7, 30, 90, 365])
@pytest.mark.parametrize("draw", [activity_figure, sentiment_figure])
def test_no_two_date_labels_overlap(days: int, draw: Any) -> None:
    fig = draw(_figures(days))
    renderer = _drawn(fig)
    ax = fig.axes[0]
    boxes = _boxes(ax.get_xticklabels(), renderer)
    assert len(boxes) >= 2
    ordered = sorted(boxes, key=lambda b: b.x0)
    for left, right in itertools.pairwise(ordered):
        assert not left.overlaps(right), (left, right)


@pytest.mark.parametrize(("days", "few"), [(7, True), (7, False), (30, False)])
def test_counts_have_whole_ticks_and_every_bar_its_number(days: int, few: bool) -> None:
    f = _figures(days)
    if few:  # a quiet week: 0 to 2 messages a day, where ticks would fall at 0.25
        f.daily_messages = {d: d % 3 for d in f.daily_messages}
        f.daily_active = {d: min(1, n) for d, n in f.daily_messages.items()}
    fig = activity_figure(f)
    renderer = _drawn(fig)
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    written = [t.get_text() for t in ax.texts]
    assert written == [str(f.daily_messages[d]) for d in range(f.period.first, f.period.last + 1)]
    # The numbers sit inside the drawing, above their bars.
    inside = ax.get_window_extent(renderer)
    for box in _boxes(ax.texts, renderer):
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1 + 1


def test_the_legend_sits_beside_the_data() -> None:
    fig = activity_figure(_figures(7))
    renderer = _drawn(fig)
    legends = fig.legends or [fig.axes[0].get_legend()]
    legend = legends[0].get_window_extent(renderer)
    plot = fig.axes[0].get_window_extent(renderer)
    assert not legend.overlaps(plot)
    assert {t.get_text() for t in legends[0].get_texts()} == {"messages", "active members"}
