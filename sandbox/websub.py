"""A tiny real WebSub hub on 127.0.0.x: takes subscriptions, verifies intent, pushes signed content.

It behaves like a hub (WebSub section 5 and 7): a subscription request is answered 202, then the
hub GETs the callback with a challenge and keeps the subscription only if it is echoed; pushes
carry ``X-Hub-Signature: sha256=`` over the body with the subscriber's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import aiohttp
from aiohttp import web


@dataclass
class Subscription:
    """One verified subscriber of a topic."""

    callback: str
    secret: str
    lease_seconds: int


class Hub:
    """Serves ``POST /hub`` on one loopback address; records requests and verified subscribers."""

    def __init__(self, host: str = "127.0.0.2", *, lease_seconds: int = 3600) -> None:
        self.host = host
        self.port = 0
        self.lease_seconds = lease_seconds
        self.requests: list[dict[str, str]] = []
        self.subscribers: dict[str, list[Subscription]] = {}
        self.verified = asyncio.Event()
        self.refuse = False
        """Answer subscription requests with 503 (a hub that is down)."""
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The hub's address, as a feed names it."""
        return f"http://{self.host}:{self.port}/hub"

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_post("/hub", self._subscribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _subscribe(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        if self.refuse:
            return web.Response(status=503, text="try later")
        mode, topic, callback = (form.get(k, "") for k in ("hub.mode", "hub.topic", "hub.callback"))
        if mode not in ("subscribe", "unsubscribe") or not topic or not callback:
            return web.Response(status=400, text="hub.mode, hub.topic and hub.callback")
        # Verified before answering, as many hubs do: the subscriber must be ready for it.
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(self.lease_seconds)
        async with aiohttp.ClientSession() as http, http.get(callback, params=query) as answer:
            echoed = answer.status // 100 == 2 and await answer.text() == challenge
        if echoed and mode == "subscribe":
            subs = [s for s in self.subscribers.get(topic, []) if s.callback != callback]
            subs.append(Subscription(callback, form.get("hub.secret", ""), self.lease_seconds))
            self.subscribers[topic] = subs
            self.verified.set()
        return web.Response(status=202)

    async def verify(self, callback: str, **query: str) -> tuple[int, str]:
        """Send the callback a verification GET of our own choosing (a forged one in tests)."""
        async with aiohttp.ClientSession() as http, http.get(callback, params=query) as answer:
            return answer.status, await answer.text()

    async def publish(self, topic: str, body: bytes, *, secret: str | None = None) -> list[int]:
        """Push ``body`` to every subscriber of ``topic``; ``secret`` forges the signature."""
        statuses = []
        for sub in self.subscribers.get(topic, []):
            key = (secret if secret is not None else sub.secret).encode()
            mac = hmac.new(key, body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/rss+xml", "X-Hub-Signature": f"sha256={mac}"}
            async with (
                aiohttp.ClientSession() as http,
                http.post(sub.callback, data=body, headers=headers) as answer,
            ):
                statuses.append(answer.status)
        return statuses
