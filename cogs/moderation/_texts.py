"""What moderation says, to members, to moderators and in the mod-log."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Button, Message
from bot.core.parsing import format_duration
from cogs.moderation._models import ModerationCase, ModerationCaseEvent

DONE = {
    "warn": "warned",
    "note": "noted",
    "timeout": "timed out",
    "kick": "removed from the community",
    "ban": "banned",
    "automod": "warned",
}


def _who(user_id: str) -> str:
    """A mention, or the rule that acted."""
    if user_id == "client:unknown":
        return "a moderator in Discord (unknown without View Audit Log)"
    return user_id if ":" in user_id else f"<@{user_id}>"


APPEALABLE = frozenset({"warn", "automod", "timeout", "kick", "ban"})
"""The kinds of case a member may appeal (the ones they are told about)."""


def notice(case: ModerationCase, hint: str, duration: timedelta | None = None) -> Message:
    """The private notice a member gets about an action on them: what, why, how to appeal
    (with the Appeal button, which works even after a kick or ban)."""
    length = f" for {format_duration(duration)}" if duration is not None else ""
    appeal: tuple[Button, ...] = ()
    if case.kind in APPEALABLE:
        appeal = (Button("appeal", "Appeal", value=str(case.number), style="primary"),)
    return Message(
        title=f"You were {DONE.get(case.kind, case.kind)}{length} by the moderators",
        text=f"Reason: {case.reason}\nThis is case #{case.number}. {hint}",
        buttons=appeal,
    )


def summary(case: ModerationCase) -> str:
    """One line per case, for lists and answers."""
    void = " (void)" if case.voided else ""
    points = f", {case.points} pt" if case.points else ""
    return (
        f"#{case.number} {case.kind} {_who(case.target_id)} by {_who(case.actor_id)}"
        f"{points}: {case.reason} [{case.status}]{void}"
    )


def delivered(case: ModerationCase) -> str:
    """Whether the member was told, for the moderator."""
    if case.dm_sent is None:
        return ""
    if case.dm_sent:
        return " They were told by direct message."
    return " Their direct messages are closed, so they were not told."


def moves(history: list[ModerationCaseEvent], *, cut: int = 0) -> list[str]:
    """Each move made on a case, one line each (notes cut to ``cut`` characters when set)."""
    lines = []
    for e in history:
        note = e.note if not cut or e.note is None or len(e.note) <= cut else e.note[:cut] + "…"
        lines.append(
            f"{e.at:%Y-%m-%d %H:%M} UTC {e.move} by {_who(e.actor_id)}: {e.before} → {e.after}"
            + (f" ({note})" if note else "")
        )
    return lines


def detail(case: ModerationCase, history: list[ModerationCaseEvent]) -> Message:
    """A case in full, with every move made on it."""
    dm = {None: "not due", True: "delivered", False: "not delivered (DMs closed)"}[case.dm_sent]
    fields = [
        ("Member", _who(case.target_id)),
        ("By", _who(case.actor_id)),
        ("Reason", case.reason),
        ("Status", case.status + (f" (void: {case.void_reason})" if case.voided else "")),
        ("Points", str(case.points)),
        ("Notice", dm),
    ]
    return Message(
        title=f"Case #{case.number}: {case.kind}",
        fields=tuple(fields),
        text="\n".join(moves(history)),
    )


MODLOG_MOVES = 12
"""The latest moves a mod-log post shows (``/moderation case`` shows them all)."""


def modlog(
    case: ModerationCase,
    history: list[ModerationCaseEvent],
    change: str | None = None,
    note: str | None = None,
) -> Message:
    """A case's mod-log post as it stands now: the case, its latest moves, the last change."""
    lines = [summary(case) + (f" {note}" if note else "")]
    if case.voided:
        lines.append(f"Void: {case.void_reason}")
    shown = moves(history, cut=200)
    if len(shown) > MODLOG_MOVES:
        lines.append(
            f"({len(shown) - MODLOG_MOVES} earlier moves: `/moderation case {case.number}`)"
        )
    lines += shown[-MODLOG_MOVES:]
    if change is not None:
        lines.append(f"Last change: {change}")
    return Message(title=f"Case #{case.number}: {case.kind}", text="\n".join(lines))


def plain(text: str) -> Message:
    """A message that pings nobody."""
    return Message(text=text)
