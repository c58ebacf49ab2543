"""A loopback TCP proxy that can take a server away: refuse new connections, reset live ones.

Put in front of PostgreSQL (``postgresql://...@127.0.0.1:{proxy.port}/db``), it lets a test see
what Steward does when its database goes away and comes back, without touching the server:
``away()`` resets every open connection (an RST, as a crashed server or a dropped route gives) and
refuses each new one the same way until ``back()``. ``silent()`` is the nastier outage: a route
that drops packets, a server frozen or gone without a word, so every open connection goes
half-open. Nothing is closed; what either side sends is swallowed, and each new connection is
taken and then never answered. Those connections stay dead after ``back()`` (as a half-open one
does: the other end forgot it); only new ones get through again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from types import TracebackType

_RESET = struct.pack("ii", 1, 0)
"""SO_LINGER on with a zero timeout: closing the socket sends RST instead of FIN."""


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    writer.transport.abort()


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``away()`` and ``back()`` switch it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.refusing = False
        self.accepted = 0
        """Connections let through to the target."""
        self.refused = 0
        """Connections reset on arrival while away (each one a reconnect attempt)."""
        self.swallowing = False
        self.swallowed = 0
        """Connections taken and never answered while silent (each one a reconnect attempt)."""
        self._dead: set[asyncio.StreamWriter] = set()
        """Both ends of every connection gone half-open: what reaches them is dropped."""
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._live):
            _reset(writer)
        await self._server.wait_closed()

    def away(self) -> None:
        """Reset every live connection and every new one until :meth:`back`."""
        self.refusing = True
        for writer in list(self._live):
            _reset(writer)
        self._live.clear()

    def silent(self) -> None:
        """Forward nothing more on the open connections and answer no new one, closing none,
        until :meth:`back` (and those open now never again)."""
        self.swallowing = True
        self._dead.update(self._live)

    def back(self) -> None:
        """Let new connections through again."""
        self.refusing = False
        self.swallowing = False

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            _reset(writer)
            return
        if self.swallowing:
            self.swallowed += 1
            await self._swallow(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        if self.refusing:  # went away while this one was connecting upstream
            self.refused += 1
            _reset(writer)
            up_writer.transport.abort()
            return
        self.accepted += 1
        self._live.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                self._live.discard(end)
                self._dead.discard(end)
                end.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction until it ends (dropping what it reads once the connection went
        half-open); a reset of either side ends both."""
        try:
            while data := await reader.read(65536):
                if writer in self._dead:
                    continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Take what the client sends and never answer, until it gives up (or the proxy ends)."""
        self._live.add(writer)
        self._dead.add(writer)
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self._live.discard(writer)
            self._dead.discard(writer)
            writer.transport.abort()
