"""Figures as text and PNG charts (matplotlib, headless)."""

from __future__ import annotations

import io

from bot.core import Attachment
from cogs.engagement._metrics import RETENTION_DAYS, Period, date_of, week_start
from cogs.engagement._repo import Figures, OpenQuestion


def pct(value: float | None) -> str:
    """``42%`` or ``n/a``."""
    return "n/a" if value is None else f"{round(value * 100)}%"


def duration(seconds: float | None) -> str:
    """``3m``, ``2h 5m``, or ``n/a``."""
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h {minutes % 60}m"


def summary(f: Figures) -> list[tuple[str, str]]:
    """The report's figures as (name, value) fields."""
    fields = [
        (
            "Active members",
            f"{f.active} (WAU {f.wau}, MAU {f.mau}, stickiness {pct(f.stickiness)})",
        ),
        ("Messages", str(f.messages)),
        ("Reactions", str(f.reactions)),
        ("New members", str(f.new_members)),
        (
            "Questions",
            f"{f.questions} asked, response rate {pct(f.response_rate)}, "
            f"median first response {duration(f.median_response_s)}",
        ),
        ("Peer-to-peer replies", pct(f.p2p_ratio)),
        (
            "Reply graph",
            f"{len(f.connected)} with 3+ partners, largest group {f.largest_group}, "
            f"{len(f.bridges)} bridging",
        ),
    ]
    if f.sentiment:
        mean = sum(f.sentiment.values()) / len(f.sentiment)
        fields.append(("Sentiment", f"{mean:+.2f} mean of daily averages"))
    return fields


def retention_lines(f: Figures) -> list[str]:
    """One line per weekly cohort: ``week of 2026-01-05: 3 joined, d1 67% d7 n/a d30 n/a``."""
    lines = []
    for c in f.cohorts:
        rates = " ".join(f"d{n} {pct(c.rate(i))}" for i, n in enumerate(RETENTION_DAYS))
        lines.append(f"week of {date_of(week_start(c.week)).isoformat()}: {c.size} joined, {rates}")
    return lines


def question_lines(open_questions: list[OpenQuestion], links: list[str]) -> list[str]:
    """``<@user> in <#channel>, 2026-01-05 09:00 UTC: link``."""
    return [
        f"<@{q.user_id}> in <#{q.channel_id}>, {q.asked_at:%Y-%m-%d %H:%M} UTC: {link}"
        for q, link in zip(open_questions, links, strict=True)
    ]


def _days(period: Period) -> list[int]:
    return list(range(period.first, period.last + 1))


def activity_chart(f: Figures) -> Attachment:
    """Daily active members and messages over the period."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    days = _days(f.period)
    labels = [date_of(d).strftime("%m-%d") for d in days]
    fig = Figure(figsize=(8, 3.5), dpi=100)
    ax = fig.add_subplot()
    ax.bar(labels, [f.daily_messages.get(d, 0) for d in days], color="#c7d2fe", label="messages")
    ax.plot(
        labels, [f.daily_active.get(d, 0) for d in days], color="#4338ca", label="active members"
    )
    ax.set_title("Activity per day")
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return Attachment("activity.png", _png(fig), "Daily active members and messages")


def sentiment_chart(f: Figures) -> Attachment:
    """The mean sentiment of each day's messages."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    days = [d for d in _days(f.period) if d in f.sentiment]
    fig = Figure(figsize=(8, 2.5), dpi=100)
    ax = fig.add_subplot()
    ax.axhline(0, color="#9ca3af", linewidth=0.8)
    ax.plot(
        [date_of(d).strftime("%m-%d") for d in days],
        [f.sentiment[d] for d in days],
        marker="o",
        color="#059669",
    )
    ax.set_ylim(-1, 1)
    ax.set_title("Sentiment per day")
    fig.autofmt_xdate()
    return Attachment("sentiment.png", _png(fig), "Mean sentiment per day")


def _png(fig: object) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # type: ignore[attr-defined]
    return buffer.getvalue()
