"""Waiting until the bot has handled everything the fake sent it, without sleeping on a timer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gateway import Gateway
    from .rest import RestApi

# Tasks discord.py creates for handlers; settle() waits for them.
BOT_TASK_PREFIXES = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-modal-dispatch",
)


class Settling:
    """FakeDiscord's waiting: barriers on the gateway, the bot's handler tasks, REST calls."""

    gateway: Gateway
    rest: RestApi
    client_sequence: Callable[[], int | None] | None
    _changed: asyncio.Event

    def notify(self) -> None:
        """Wake up waiters; called on every state change."""
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline is part of this test-facing API
        """Wait (without polling) until ``predicate()`` holds after some state change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                if not predicate():
                    raise TimeoutError(f"condition not met within {timeout}s") from None

    async def barrier(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline is part of this test-facing API
        """Return once the client has parsed every dispatch sent so far.

        With ``client_sequence`` set (a client in this process), it is read until it reaches
        the last sequence dispatched: no gateway send. Otherwise sends op 1; discord.py answers
        from its receive loop with ``d`` = last sequence, after handling every earlier frame in
        order. Survives reconnects by asking again.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.wait_for(lambda: self.gateway.connected, max(deadline - loop.time(), 0.01))
            session = self.gateway.session
            assert session is not None
            target, mark = session.seq, len(self.gateway.client_frames)
            connection = self.gateway.connections
            if self.client_sequence is not None:
                if await self._client_reached(target, connection, deadline):
                    return
                continue
            self.gateway.send_op(1, session.seq)

            def answered(target: int = target, mark: int = mark, conn: int = connection) -> bool:
                got = self.gateway.last_heartbeat_seq(mark)
                return (got is not None and got >= target) or self.gateway.connections != conn

            await self.wait_for(answered, max(deadline - loop.time(), 0.01))
            got = self.gateway.last_heartbeat_seq(mark)
            if got is not None and got >= target:
                return

    async def _client_reached(self, target: int, connection: int, deadline: float) -> bool:
        """Poll ``client_sequence`` until it reaches ``target``; False if the connection changed.

        Polling, because reading a frame changes nothing the fake can wait on; each poll lets
        the loop read the socket, so a frame in flight arrives within a poll or two.
        """
        assert self.client_sequence is not None
        loop = asyncio.get_running_loop()
        pause = 0.0
        while self.gateway.connections == connection:
            seen = self.client_sequence()
            if seen is not None and seen >= target:
                return True
            if loop.time() > deadline:
                raise TimeoutError(f"the client never read dispatch {target} (it is at {seen})")
            await asyncio.sleep(pause)
            pause = min(pause + 0.0005, 0.005)
        return False

    def _busy_tasks(self) -> list[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_name().startswith(BOT_TASK_PREFIXES)
        ]

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline is part of this test-facing API
        """Wait until the bot has handled everything: gateway barrier, handler tasks, REST calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            session = self.gateway.session
            seq = session.seq if session else 0
            if session is not None:
                await self.barrier(max(deadline - loop.time(), 0.01))
            tasks = self._busy_tasks()
            if tasks:
                await asyncio.wait(tasks, timeout=max(deadline - loop.time(), 0.01))
            if self.rest.inflight:
                await self.wait_for(
                    lambda: self.rest.inflight == 0, max(deadline - loop.time(), 0.01)
                )
            session = self.gateway.session
            if (
                not self._busy_tasks()
                and self.rest.inflight == 0
                and (session.seq if session else 0) == seq
            ):
                return
            if loop.time() > deadline:
                raise TimeoutError("bot did not settle")
