"""A real HTTP server for feeds on 127.0.0.x: documents with ETags, redirects and hostile answers.

Tests and benchmarks start one per loopback address they need (127.0.0.2 plays "the internet",
127.0.0.3 an internal service that must never be reached). It counts connections at accept, so a
refused destination is proven by zero, not by the absence of a request.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_TYPES = {".xml": "application/xml", ".json": "application/feed+json"}


@dataclass
class Document:
    """A document the server answers with; its ETag changes whenever its bytes do."""

    body: bytes
    content_type: str = "application/xml"
    last_modified: str = ""
    gzip: bool = False
    cache_control: str = ""

    @property
    def etag(self) -> str:
        """A strong ETag from the bytes."""
        return '"' + hashlib.sha1(self.body, usedforsecurity=False).hexdigest()[:16] + '"'


class FeedServer:
    """Serves documents and behaviours on one loopback address; records what it was asked."""

    def __init__(self, host: str = "127.0.0.1", *, latency: float = 0.0) -> None:
        self.host = host
        self.port = 0
        self.latency = latency
        self.close_connections = False
        """Answer with ``Connection: close``, so every request needs a new connection."""
        self.documents: dict[str, Document] = {}
        self.behaviours: dict[str, Handler] = {}
        self.requests: Counter[str] = Counter()
        self.not_modified = 0
        self.connections = 0
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return self.base_url + path

    def put(self, path: str, body: bytes, content_type: str = "application/xml", **kw: str) -> str:
        """Serve ``body`` at ``path`` (replacing what was there); returns its URL."""
        doc = Document(body, content_type, last_modified=formatdate(usegmt=True))
        for key, value in kw.items():
            setattr(doc, key, value)
        self.documents[path] = doc
        return self.url(path)

    def serve_dir(self, folder: Path, prefix: str = "/feeds/") -> dict[str, str]:
        """Serve every file of ``folder`` under ``prefix``; returns file name -> URL."""
        urls = {}
        for file in sorted(folder.iterdir()):
            if file.suffix in CONTENT_TYPES:
                urls[file.name] = self.put(
                    prefix + file.name, file.read_bytes(), CONTENT_TYPES[file.suffix]
                )
        return urls

    def on(self, path: str, handler: Handler) -> str:
        """Answer ``path`` with a custom behaviour; returns its URL."""
        self.behaviours[path] = handler
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        """Answer ``path`` with a redirect to ``location``."""

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        return self.on(path, handler)

    async def start(self) -> str:
        """Listen on ``host`` (a free port); returns the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        runner = self._runner

        def accept() -> asyncio.Protocol:
            self.connections += 1
            return runner.server()  # type: ignore[misc]

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(accept, self.host, self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close connections."""
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        host = request.host
        self.requests[path] += 1
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if path in self.behaviours:
                return await self.behaviours[path](request)
            doc = self.documents.get(path)
            if doc is None:
                return web.Response(status=404, text="not found")
            return self._document(request, doc)
        finally:
            self.in_flight[host] -= 1

    def _document(self, request: web.Request, doc: Document) -> web.Response:
        headers = {"ETag": doc.etag, "Last-Modified": doc.last_modified}
        if self.close_connections:
            headers["Connection"] = "close"
        if doc.cache_control:
            headers["Cache-Control"] = doc.cache_control
        if request.headers.get("If-None-Match") == doc.etag:
            self.not_modified += 1
            return web.Response(status=304, headers=headers)
        body = doc.body
        if doc.gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers, content_type=doc.content_type)


def gzip_bomb(decoded_bytes: int) -> Handler:
    """A handler sending a small gzip body that inflates to ``decoded_bytes`` of zeros."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    parts = [squeeze.compress(block) for _ in range(decoded_bytes // len(block))]
    packed = b"".join(parts) + squeeze.flush()

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=packed, headers={"Content-Encoding": "gzip", "Content-Type": "application/xml"}
        )

    return handler


def _streaming(next_chunk: Callable[[], Awaitable[bytes]]) -> Handler:
    """A handler streaming ``next_chunk()`` until the client goes away."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/xml"})
        await resp.prepare(request)
        try:
            while True:
                await resp.write(await next_chunk())
        except (ConnectionError, RuntimeError):
            pass
        return resp

    return handler


def endless(chunk: bytes = b"<item>" * 10_000) -> Handler:
    """A handler streaming a body that never ends."""

    async def more() -> bytes:
        return chunk

    return _streaming(more)


def slow_drip(interval: float, byte: bytes = b" ") -> Handler:
    """A handler that sends one byte every ``interval`` seconds, forever."""

    async def more() -> bytes:
        await asyncio.sleep(interval)
        return byte

    return _streaming(more)
