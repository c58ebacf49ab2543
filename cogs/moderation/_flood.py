"""Each member's recent messages, for flood and repeat rules: windows that forget (pure)."""

from __future__ import annotations

import bisect
from collections import OrderedDict, deque
from dataclasses import dataclass, field

_MAX_RUN = 64  # a repeat rule never needs a longer run of identical messages than this


@dataclass(slots=True)
class History:
    """One member's recent message times, and the run of identical texts they ended with."""

    times: deque[float] = field(default_factory=deque)
    text: str = ""
    run: deque[float] = field(default_factory=lambda: deque(maxlen=_MAX_RUN))

    def count_within(self, seconds: float, limit: int) -> int:
        """How many of the last ``limit`` messages fall within ``seconds`` of the newest."""
        if not self.times:
            return 0
        newest = self.times[-1]
        last = list(self.times)[-limit:]
        return len(last) - bisect.bisect_left(last, newest - seconds)

    def repeats_within(self, seconds: float) -> int:
        """How many identical messages in a row end the history within ``seconds``."""
        if not self.run:
            return 0
        newest = self.run[-1]
        return sum(1 for t in self.run if t >= newest - seconds)


class Recent:
    """Recent messages per member, bounded: the least recently heard members are forgotten first."""

    def __init__(self, max_members: int = 50_000) -> None:
        self._members: OrderedDict[str, History] = OrderedDict()
        self._max = max_members

    def record(self, author: str, at: float, text: str, depth: int) -> History:
        """Add a message of ``author`` and return their history (``depth``: times kept)."""
        history = self._members.get(author)
        if history is None:
            history = self._members[author] = History()
            if len(self._members) > self._max:
                self._members.popitem(last=False)
        else:
            self._members.move_to_end(author)
        history.times.append(at)
        while len(history.times) > max(depth, 1):
            history.times.popleft()
        if text != history.text:
            history.text = text
            history.run.clear()
        history.run.append(at)
        return history

    def forget(self, author: str) -> None:
        """Drop what is held about ``author`` (they left, or asked to be forgotten)."""
        self._members.pop(author, None)
