"""Figures as text and PNG charts (matplotlib, headless)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.message import plural
from cogs.engagement._metrics import RETENTION_WEEKS, date_of, ratio, week_start
from cogs.engagement._questions import OpenQuestion
from cogs.engagement._repo import Figures


def pct(value: float | None) -> str:
    """``42%`` or ``n/a``."""
    return "n/a" if value is None else f"{round(value * 100)}%"


def duration(seconds: float | None) -> str:
    """``3m``, ``2h 5m``, ``3d 4h``, or ``n/a``."""
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // 1440}d {minutes % 1440 // 60}h"


def when(at: datetime) -> str:
    """The one way times are shown: ``2026-01-05 09:00 UTC``."""
    return f"{(at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def open_summary(found: list[OpenQuestion], now: datetime) -> str:
    """``3 open, the oldest asked 2d 4h ago`` (every open question, not only those listed)."""
    if not found:
        return "none open"
    asked = found[0].asked_at
    oldest = (now - (asked if asked.tzinfo else asked.replace(tzinfo=UTC))).total_seconds()
    return f"{len(found)} open, the oldest asked {duration(oldest)} ago"


def _members(n: int, one: str, many: str) -> str:
    """``1 member talks``, ``3 members talk``."""
    return f"{plural(n, 'member')} {one if n == 1 else many}"


def _helpers(f: Figures) -> str:
    top = f.answers.helpers
    return ", ".join(f"<@{u}> {n}" for u, n in top) if top else "nobody yet"


def summary(f: Figures, open_now: str | None = None) -> list[tuple[str, str]]:
    """The report's figures as (name, value) fields, each saying what it counts."""
    a = f.answers
    fields = [
        ("Active members", f"{f.active} posted or reacted; {f.communicators} of them posted"),
    ]
    if f.wau is None or f.mau is None:
        fields.append(("WAU / MAU", "n/a: the period has not started yet"))
    else:
        fields.append(
            (
                "WAU / MAU",
                f"{f.wau} active in the last 7 days, {f.mau} in the last 30; stickiness "
                f"{pct(f.stickiness)} (on an average day, that share of the 30 days' active "
                "members came by)",
            )
        )
    fields += [("Messages", str(f.messages)), ("Reactions", str(f.reactions))]
    if f.channel is None:
        fields.append(
            (
                "Members",
                f"{f.new_members} joined, {f.departures} left, net {f.net_growth:+d}; "
                f"{f.never_posted} of those who joined "
                f"{'has' if f.never_posted == 1 else 'have'} never posted",
            )
        )
    fields += [
        (
            "Questions",
            f"{a.asked} asked, {a.answered} answered ({pct(a.rate)}); median first answer "
            f"{duration(a.median_s)}; {pct(a.share(a.within_hour))} answered within 1 hour, "
            f"{pct(a.share(a.within_day))} within 24 hours",
        ),
        (
            "Answered by",
            f"staff {pct(ratio(a.by_staff, a.answered))}, members "
            f"{pct(ratio(a.answered - a.by_staff, a.answered))} (first answers)",
        ),
    ]
    if open_now is not None:
        fields.append(("Open questions", open_now))
    fields += [
        ("Top helpers", f"{_helpers(f)} (first answers to others' questions)"),
        (
            "Peer-to-peer replies",
            f"{pct(f.p2p_ratio)} of replies to members came from other members, the rest from staff"
            if f.p2p_ratio is not None
            else "n/a: nobody replied to a member",
        ),
        (
            "Reply graph",
            f"{_members(len(f.connected), 'talks', 'talk')} with 3+ others; the largest group "
            f"talking together has {f.largest_group}; "
            f"{_members(len(f.bridges), 'bridges', 'bridge')} groups (without them a group "
            "would split)",
        ),
    ]
    if f.sentiment:
        mean = sum(f.sentiment.values()) / len(f.sentiment)
        fields.append(("Sentiment", f"{mean:+.2f} (-1 negative .. +1 positive, mean of days)"))
    return fields


def digest_fields(this: Figures, last: Figures) -> tuple[tuple[str, str], ...]:
    """The weekly digest's figures, each beside the week before's."""

    def both(name: str, now: str, before: str) -> tuple[str, str]:
        return (name, f"{now} (week before {before})")

    a, b = this.answers, last.answers
    return (
        both("Active members", str(this.active), str(last.active)),
        both("Communicators (posted)", str(this.communicators), str(last.communicators)),
        both("Messages", str(this.messages), str(last.messages)),
        both("Reactions", str(this.reactions), str(last.reactions)),
        both("New members", str(this.new_members), str(last.new_members)),
        both("Departures", str(this.departures), str(last.departures)),
        both("Net growth", f"{this.net_growth:+d}", f"{last.net_growth:+d}"),
        both("Response rate", pct(a.rate), pct(b.rate)),
        both("Answered within 24 hours", pct(a.share(a.within_day)), pct(b.share(b.within_day))),
        both("Peer-to-peer replies", pct(this.p2p_ratio), pct(last.p2p_ratio)),
        ("Top helpers", _helpers(this)),
    )


RETENTION_HEADER = (
    "Retention: of the members who joined each week, the share active again 1, 2 and 4 weeks "
    "later (a week still running is not shown yet):"
)


def retention_lines(f: Figures) -> list[str]:
    """One line per weekly cohort: ``week of 2026-01-05: 3 joined; week 1 67%, ...``."""
    lines = []
    for c in f.cohorts:
        rates = ", ".join(
            f"week {n} {pct(c.rate(i)) if c.retained[i] is not None else 'not over yet'}"
            for i, n in enumerate(RETENTION_WEEKS)
        )
        lines.append(f"week of {date_of(week_start(c.week)).isoformat()}: {c.size} joined; {rates}")
    return lines


def question_lines(open_questions: list[OpenQuestion], links: list[str]) -> list[str]:
    """``<@user> in <#channel>, 2026-01-05 09:00 UTC: link``."""
    return [
        f"<@{q.user_id}> in <#{q.channel_id}>, {when(q.asked_at)}: {link}"
        for q, link in zip(open_questions, links, strict=True)
    ]


PAGE = 1900
"""The most text one answer carries (Discord's limit is 2,000 characters)."""


def pages(lines: list[str], limit: int = PAGE) -> list[str]:
    """Lines grouped into texts of at most ``limit`` characters, never cutting a line short
    (a line longer than that alone is split)."""
    found: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                found.append(current)
                current = ""
            found.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            found.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        found.append(current)
    return found
