"""The engagement writer process: batches in on stdin, one transaction each, acks out on stdout.

Steward's own process only parses gateway events and queues them (``_ingest``); storing them
(the question and sentiment scores, idempotent inserts, rollups) runs here, on another core, so a
message flood never slows commands down and the database never slows the gateway reader. This is
Statbot's "recorder" split (see the performance study), inside one ``steward run``.

The pipe carries frames: a 4-byte big-endian length, then a pickle. Both ends are this module, run
from the same code, over an anonymous pipe nobody else can reach. Bot → writer:
``("hello", database_url)`` first (the URL and its password never appear in ``ps``), then
``("batch", seq, rules, items)``, ``("forget", community, user)``, ``("fault", statement, times)``
(a test hook), ``("stop",)``. Writer → bot: ``("ready",)`` once connected, then
``("done", seq, stored, failures)`` after each batch's commit (or after it was dropped). The
writer exits when its stdin closes, so it never outlives the bot.

``WriterLink`` starts it (``python -m bot.writer``: that process's composition root, which builds
the database from the URL and hands it to ``serve`` here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

try:
    import fcntl
except ImportError:  # Windows: the default pipe size
    fcntl = None  # type: ignore[assignment]

from bot.core.runtime import Storage

log = logging.getLogger("steward.engagement")
_LENGTH = struct.Struct(">I")
ROOT = Path(__file__).resolve().parents[2]
ENTRY = "bot.writer"
"""The writer process's entry module (outside cogs: it composes the database and this module)."""


class WriterDatabase(Storage, Protocol):
    """The database the writer process is given: Steward's, plus closing it at the end."""

    async def dispose(self) -> None:
        """Close every pooled connection."""
        ...


def frame(message: tuple[Any, ...]) -> bytes:
    """One message as a length-prefixed pickle."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> tuple[Any, ...] | None:
    """The next message, or None at the end of the stream."""
    try:
        head = await reader.readexactly(_LENGTH.size)
        (size,) = _LENGTH.unpack(head)
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
    message: tuple[Any, ...] = pickle.loads(body)
    return message


PIPE_SIZE = 1 << 20
"""Bytes the pipe to the writer holds (Linux; 64 KiB by default): a batch of a few thousand
events fits whole, so sending it never waits for the writer to finish the batch before."""


def _widen(stream: Any) -> None:
    """Give the pipe behind ``stream`` ``PIPE_SIZE`` bytes where the system allows it."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    pipe = stream.get_extra_info("pipe") if stream is not None else None
    if set_size is None or pipe is None:
        return
    with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
        fcntl.fcntl(pipe.fileno(), set_size, PIPE_SIZE)


class WriterLink:
    """The bot's end: starts the writer process, sends it frames, hands its acks to ``on_ack``.

    If the process dies, ``on_exit`` is called (the bot starts a new one and sends again what was
    not acknowledged: every event has an idempotency key, so a batch committed just before the
    crash is not counted twice).
    """

    def __init__(
        self,
        url: str,
        on_ack: Callable[[tuple[Any, ...]], None],
        on_exit: Callable[[WriterLink], None],
    ) -> None:
        self.url = url
        self.on_ack = on_ack
        self.on_exit = on_exit
        self.process: asyncio.subprocess.Process | None = None
        self.closing = False
        self.ready = asyncio.Event()
        """Set when the writer has connected to the database and waits for batches."""
        self._reader: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        """Started and not exited."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start the process and say hello."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            ENTRY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            # Steward's process owns this one (it sends "stop", or closes the pipe): Ctrl+C in
            # the terminal must reach Steward only, not leave a traceback from the writer.
            start_new_session=True,
        )
        _widen(self.process.stdin)
        self._reader = asyncio.create_task(self._read(self.process), name="engagement-acks")
        await self.send(("hello", self.url))

    async def send(self, message: tuple[Any, ...]) -> None:
        """Write one frame (waits while the pipe is full: back-pressure from the writer)."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(frame(message))
        await self.process.stdin.drain()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            message = await read_frame(process.stdout)
            if message is None:
                break
            if message[0] == "ready":
                self.ready.set()
            else:
                self.on_ack(message)
        await process.wait()
        if not self.closing:
            log.warning(
                "the engagement writer exited (code %s); starting it again", process.returncode
            )
            self.on_exit(self)

    async def stop(self) -> None:
        """Ask the writer to finish and wait for it (killed after 10 s)."""
        self.closing = True
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ConnectionError):
            await self.send(("stop",))
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


# -- the writer process ------------------------------------------------------------------------


async def serve(output: Any, open_db: Callable[[str], WriterDatabase]) -> None:
    """Read frames from stdin until ``stop`` or the end, store batches, ack each on ``output``.

    ``open_db`` builds the database from the URL the bot sends first (never on the command line).
    """
    from cogs.engagement._store import Store

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    hello = await read_frame(reader)
    if hello is None or hello[0] != "hello":
        return
    db = open_db(hello[1])
    store = Store(db)
    try:
        await store.connect()  # now, not at the first batch
    except Exception:
        # Never a loop of restarts: the first batch waits for the database (``Store.write``
        # retries passing trouble with backoff until it is taken).
        log.exception("the engagement writer can't reach the database yet")
    output.write(frame(("ready",)))
    output.flush()
    try:
        while True:
            message = await read_frame(reader)
            if message is None or message[0] == "stop":
                break
            if message[0] == "batch":
                _, seq, rules, items = message
                stored = await store.write(items, rules)
                output.write(frame(("done", seq, stored, store.failures)))
                output.flush()
            elif message[0] == "forget":
                store.forget(message[1], message[2])
            elif message[0] == "fault":
                store.faults[message[1]] = message[2]
    finally:
        await store.close()
        await db.dispose()
