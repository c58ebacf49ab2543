"""The report's charts (matplotlib, headless), drawn to be read: dates thinned so labels never
overlap, whole numbers on count axes, every bar's value written on it, legends beside the data
rather than over it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core import Attachment
from cogs.engagement._repo import Figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LABELLED_BARS = 31
"""Bars carry their value up to this many days (beyond, the numbers would touch)."""
BARS = 92
"""Messages are bars up to this many days, an area beyond."""


def _figure(height: float) -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _date_axis(ax: Axes) -> None:
    """Dates as few, short labels: the locator picks a step so they fit side by side.

    Matplotlib counts dates in days since 1970-01-01, as day numbers do: they go in as is.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def activity_figure(f: Figures) -> Figure:
    """Messages per day (bars, each with its number) and active members (a line)."""
    from matplotlib.ticker import MaxNLocator

    days = list(range(f.period.first, f.period.last + 1))
    fig, ax = _figure(3.5)
    messages = [f.daily_messages.get(d, 0) for d in days]
    if len(days) <= BARS:
        bars = ax.bar(days, messages, color="#c7d2fe", label="messages")
        if len(days) <= LABELLED_BARS:
            ax.bar_label(bars, labels=[str(n) for n in messages], fontsize=7, padding=1)
    else:  # hundreds of bars are slow to draw and read as an area anyway
        ax.fill_between(days, messages, step="mid", color="#c7d2fe", label="messages")
    ax.plot(days, [f.daily_active.get(d, 0) for d in days], color="#4338ca", label="active members")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*messages, *f.daily_active.values(), 1]) * 1.15)
    _date_axis(ax)
    ax.set_title("Activity per day")
    fig.legend(loc="outside right upper", frameon=False)
    return fig


def sentiment_figure(f: Figures) -> Figure:
    """The mean sentiment of each day's messages, from -1 to +1."""
    days = [d for d in range(f.period.first, f.period.last + 1) if d in f.sentiment]
    fig, ax = _figure(2.5)
    ax.axhline(0, color="#9ca3af", linewidth=0.8)
    ax.plot(days, [f.sentiment[d] for d in days], marker="o", color="#059669")
    ax.set_ylim(-1, 1)
    ax.set_xlim(f.period.first - 0.5, f.period.last + 0.5)
    _date_axis(ax)
    ax.set_title("Sentiment per day (-1 negative .. +1 positive)")
    return fig


def activity_chart(f: Figures) -> Attachment:
    """Daily active members and messages over the period, as a PNG."""
    return Attachment("activity.png", _png(activity_figure(f)), "Daily active members and messages")


def sentiment_chart(f: Figures) -> Attachment:
    """The mean sentiment of each day's messages, as a PNG."""
    return Attachment("sentiment.png", _png(sentiment_figure(f)), "Mean sentiment per day")


async def charts(f: Figures, *draw: Callable[[Figures], Attachment]) -> tuple[Attachment, ...]:
    """The charts drawn in a worker thread: a year of days takes a second or more to draw,
    which would hold up every other event (and the command's own acknowledgement)."""
    return await asyncio.to_thread(lambda: tuple(d(f) for d in draw))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
