"""Rounds as a PNG chart (matplotlib, Agg backend): people introduced and groups that met."""

from __future__ import annotations

import io
from collections.abc import Sequence

from cogs.introductions._stats import RoundLine


def rounds_png(lines: Sequence[RoundLine]) -> bytes:
    """Bars per round: groups formed and groups that met, with the met rate on top."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    xs = list(range(len(lines)))
    axes.bar([x - 0.2 for x in xs], [r.groups for r in lines], width=0.4, label="groups")
    axes.bar([x + 0.2 for x in xs], [r.met for r in lines], width=0.4, label="groups that met")
    for x, r in zip(xs, lines, strict=True):
        axes.annotate(f"{r.met_rate:.0%}", (x + 0.2, r.met), ha="center", va="bottom")
    axes.set_xticks(xs)
    axes.set_xticklabels([f"{r.started_at:%b %d}" for r in lines])
    axes.set_ylabel("groups")
    axes.set_title("Introductions: groups per round and how many met")
    axes.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
