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
        f"(latest first). `/steward failures retry` hands them to their features again."
    )
    lines = [head]
    for k in kept:
        when = k.failed_at.strftime("%Y-%m-%d %H:%M UTC")
        tries = plural(k.attempts, "try", "tries")
        lines.append(
            f"• `{k.error_id}` {when}: {k.feature}, {k.summary} ({tries}; {k.error[:120]})"
        )
    if total > len(kept):
        lines.append(f"…and {total - len(kept)} older.")
    return "\n".join(lines)


def retried_text(done: int, failing: int) -> str:
    """What a retry came to."""
    if not done and not failing:
        return "Nothing was waiting to be tried again."
    text = f"Tried {plural(done + failing, 'event')} again: {done} handled now"
    if failing:
        return text + f", {failing} still failing (see `/steward failures show`)."
    return text + "."
