"""A bounded cache whose entries expire: what a long-running process may keep per person.

A cache keyed by something that keeps arriving (a user id per newcomer) must not grow with
everyone ever seen. Entries expire ``ttl`` seconds after they were put; expired ones are dropped
as new ones come, and when more than ``most`` are live the oldest go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Expiring(Generic[K, V]):
    """At most ``most`` entries, each for ``ttl`` seconds after it was put."""

    def __init__(self, ttl: float, most: int, now: Callable[[], float] = time.monotonic) -> None:
        if most < 1 or ttl <= 0:
            raise ValueError("an Expiring keeps at least one entry for some time")
        self.ttl, self.most, self._now = ttl, most, now
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        """Oldest put first (a put moves its key to the end): the front expires first."""

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) while ``key`` is kept and fresh; (False, None) otherwise."""
        found = self._entries.get(key)
        if found is None or self._now() - found[0] >= self.ttl:
            return False, None
        return True, found[1]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key`` from now; drop what expired, then the oldest past
        ``most``."""
        now = self._now()
        entries = self._entries
        entries[key] = (now, value)
        entries.move_to_end(key)
        while len(entries) > self.most or now - next(iter(entries.values()))[0] >= self.ttl:
            entries.popitem(last=False)  # the oldest; the newest (just put) is never expired

    def pop(self, key: K) -> None:
        """Forget ``key``."""
        self._entries.pop(key, None)
