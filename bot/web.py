"""Steward's HTTP endpoint for features (inbound webhooks, WebSub), on aiohttp.

The routes go on Slack's HTTP-mode server when Slack runs in HTTP mode; otherwise on a server of
their own, started only when ``STEWARD_HTTP_PORT`` is set. Nothing listens by default.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.core.dispatch import Dispatcher
from bot.core.feature import Feature
from bot.core.http import HttpContext, HttpRequest, HttpResponse
from bot.core.registry import Registry

log = logging.getLogger("steward.web")
MAX_BODY = 1024 * 1024
"""Larger requests are refused with 413 before a handler sees them."""

EndpointHandler = Callable[[HttpContext, HttpRequest], Awaitable[HttpResponse]]


def _serve(
    dispatcher: Dispatcher, feature: Feature, handler: EndpointHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        body = await request.read()
        neutral = HttpRequest(
            method=request.method,
            path=request.path,
            params=dict(request.match_info),
            query=dict(request.query.items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        answer = await dispatcher.serve(feature, handler, neutral)
        return web.Response(
            status=answer.status, text=answer.text, content_type=answer.content_type
        )

    return serve


def routes(registry: Registry, dispatcher: Dispatcher) -> list[web.RouteDef]:
    """aiohttp routes for every feature endpoint."""
    return [
        web.route(method, path, _serve(dispatcher, feature, handler))
        for feature, method, path, handler in registry.endpoints()
    ]


class WebServer:
    """Steward's own HTTP server, for when Slack is not in HTTP mode."""

    def __init__(self, route_defs: list[web.RouteDef], host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._routes = route_defs
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen (port 0: any free port, read back into ``port``)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.add_routes(self._routes)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        log.info("HTTP endpoint on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
