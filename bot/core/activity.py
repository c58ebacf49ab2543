"""Work in flight, counted so a sandbox or a test can wait until Steward is quiet."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Activity:
    """Counts work in flight, so a sandbox or a test can wait until Steward is quiet."""

    def __init__(self) -> None:
        self.busy = 0
        self.generation = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        """One more piece of work in flight (pair with :meth:`leave`)."""
        self.busy += 1
        self.generation += 1
        if self.busy == 1:
            self._idle.clear()

    def leave(self) -> None:
        """A piece of work started with :meth:`enter` is done."""
        self.busy -= 1
        if self.busy == 0:
            self._idle.set()

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        """Mark the enclosed work as in flight."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    async def wait_idle(self) -> None:
        """Return once nothing is in flight."""
        await self._idle.wait()
