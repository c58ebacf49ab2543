"""What ``/steward failures show`` says: the events kept after their retries, in plain words."""

from __future__ import annotations

from bot.core.failures import Kept
from bot.core.message import plural


def failures_text(total: int, kept: list[Kept]) -> str:
    """The list an admin sees (the latest first; at most what was read)."""
    if not total:
        return "Nothing is waiting: every event here was handled."
    head = (
        f"{plural(total, 'event')} Steward could not handle here, even after retrying "
        f"(latest first). Those that failed on passing trouble are tried again by themselves; "
        f"`/steward failures retry` hands them all to their features now, "
        f"`/steward failures dismiss <code>` drops one."
    )
    lines = [head]
    for k in kept:
        when = k.failed_at.strftime("%Y-%m-%d %H:%M UTC")
        tries = plural(k.attempts, "try", "tries")
        line = f"• `{k.error_id}` {when}: {k.feature}, {k.summary} ({tries}; {k.error[:120]})"
        if k.retry_at is not None:
            line += f", next try by itself {k.retry_at.strftime('%Y-%m-%d %H:%M UTC')}"
        elif k.retries:
            line += f", tried {plural(k.retries, 'time')} by itself: waiting for you"
        lines.append(line)
    if total > len(kept):
        lines.append(f"…and {total - len(kept)} older.")
    return "\n".join(lines)


def retried_text(done: int, failing: int, busy: int = 0) -> str:
    """What a retry came to (``busy``: events another try was already on)."""
    if not done and not failing:
        if busy:
            verb = "is" if busy == 1 else "are"
            return (
                f"{plural(busy, 'event')} {verb} being tried again right now; "
                "nothing else was waiting."
            )
        return "Nothing was waiting to be tried again."
    text = f"Tried {plural(done + failing, 'event')} again: {done} handled now"
    if failing:
        return text + f", {failing} still failing (see `/steward failures show`)."
    return text + "."


def dismissed_text(dropped: int, code: str) -> str:
    """What dismissing came to."""
    if dropped:
        return f"Dismissed {plural(dropped, 'event')}: no longer listed or tried again."
    if code == "all":
        return "Nothing was waiting to be dismissed."
    shown = f" `{code}`" if code.isalnum() and len(code) <= 16 else ""
    return f"No event waiting here has the code{shown}; `/steward failures show` lists them."
