"""Moderation's figures for a period (pure): reports and how fast they were taken and closed,
per moderator and overall, open cases by age, and actions by kind."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import CommandContext, UserError
from bot.core.parsing import format_duration
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]

TAKEN = frozenset({"acknowledge", "action", "dismiss"})
"""The moves that count as a moderator taking a report."""
ACTIONS = ("note", "warn", "timeout", "kick", "ban", "unban", "purge", "automod")


@dataclass(frozen=True, slots=True)
class Move:
    """One audited move of a case."""

    move: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Seen:
    """A case as the figures need it."""

    kind: str
    status: str
    voided: bool
    created_at: datetime
    moves: tuple[Move, ...] = ()


def percentile(values: Sequence[timedelta], share: float) -> timedelta:
    """The nearest-rank percentile (``share`` 0.5: the median) of a non-empty list."""
    ranked = sorted(values)
    return ranked[max(math.ceil(share * len(ranked)) - 1, 0)]


def _spread(values: list[timedelta]) -> str:
    if not values:
        return "none yet"
    return (
        f"median {format_duration(percentile(values, 0.5))}, "
        f"p90 {format_duration(percentile(values, 0.9))}"
    )


def _taken(case: Seen) -> Move | None:
    return next((m for m in case.moves if m.move in TAKEN), None)


def _closed(case: Seen) -> Move | None:
    return next((m for m in case.moves if m.move == "close"), None)


def report(cases: Sequence[Seen], now: datetime, period: timedelta) -> list[str]:
    """The lines ``/moderation stats`` shows for cases opened within ``period`` of ``now``
    (open cases are counted whenever they were opened)."""
    since = now - period
    recent = [c for c in cases if c.created_at > since and not c.voided]
    reports = [c for c in recent if c.kind == "report"]
    to_take = [m.at - c.created_at for c in reports if (m := _taken(c)) is not None]
    to_close = [m.at - c.created_at for c in reports if (m := _closed(c)) is not None]
    lines = [
        f"In the last {format_duration(period)}: {len(reports)} reports.",
        f"Time to acknowledge: {_spread(to_take)}. Time to close: {_spread(to_close)}.",
    ]
    by: dict[str, list[timedelta]] = {}
    for case in reports:
        taken = _taken(case)
        if taken is not None:
            by.setdefault(taken.actor, []).append(taken.at - case.created_at)
    for actor, waits in sorted(by.items(), key=lambda item: (-len(item[1]), item[0])):
        took = format_duration(percentile(waits, 0.5))
        lines.append(f"<@{actor}>: took {len(waits)}, median {took}.")
    waiting = [now - c.created_at for c in cases if c.status == "open" and not c.voided]
    if waiting:
        ages = Counter(
            "under 1d" if w < timedelta(days=1) else "1-7d" if w < timedelta(days=7) else "older"
            for w in waiting
        )
        parts = ", ".join(f"{ages[k]} {k}" for k in ("under 1d", "1-7d", "older") if ages[k])
        lines.append(f"Open cases: {len(waiting)} ({parts}).")
    else:
        lines.append("Open cases: none.")
    done = Counter(c.kind for c in recent if c.kind in ACTIONS)
    shown = ", ".join(f"{kind} {done[kind]}" for kind in ACTIONS if done[kind])
    lines.append(f"Actions: {shown or 'none'}.")
    return lines


async def stats(ctx: Ctx, period: timedelta) -> str:
    """``/moderation stats``: the figures for the last ``period``."""
    if not timedelta(hours=1) <= period <= timedelta(days=366):
        raise UserError("Give a period from 1h to a year, like 7d or 4w.")
    now = ctx.clock.now()
    rows = await Repo(ctx.uow.session, ctx.community).since(now - period)
    seen = [
        Seen(
            case.kind,
            case.status,
            case.voided,
            case.created_at,
            tuple(Move(e.move, e.actor_id, e.at) for e in events),
        )
        for case, events in rows
    ]
    return "\n".join(report(seen, now, period))
