"""Slack's signed HTTP requests (HTTP mode): verified, fresh, handled once, then given to Bolt."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
SEEN_LIMIT = 20_000


class Seen:
    """A bounded memory of ids already handled (event ids, request signatures)."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def seen(self, key: str) -> bool:
        """Whether the key was seen (without noting it)."""
        return key in self._ids

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._limit:
            self._ids.popitem(last=False)
        return True


class SignedRequests:
    """The ``/slack/events`` endpoint: only requests Slack signed, each once."""

    def __init__(self, app: AsyncApp, signing_secret: str | None) -> None:
        self.app = app
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._requests = Seen()

    def verified(self, raw: bytes, timestamp: str, signature: str) -> str | None:
        """The body as text when the request is signed by Slack and fresh; else None.

        The header formats are checked first, so nothing malformed reaches a parser (Bolt
        answers 500 to a non-numeric timestamp) and Bolt never logs a forged body.
        """
        if self._verifier is None:
            return None
        if not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None  # Slack signs UTF-8; anything else is not from Slack
        return text if self._verifier.is_valid(text, timestamp, signature) else None

    async def handle(self, request: web.Request) -> web.Response:
        """Verify, de-duplicate and dispatch one signed request from Slack."""
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        text = self.verified(raw, timestamp, signature)
        if text is None:
            return web.Response(status=401, text="invalid request")
        # The signature proves origin, not uniqueness: an exact replay is acked, not run again.
        if not self._requests.first_time(f"{timestamp}:{signature}"):
            return web.Response(status=200, text="")
        headers: dict[str, str | Sequence[str]] = {
            key.lower(): request.headers.getall(key) for key in request.headers
        }
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        content_type = request.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in content_type and "payload" in text:
            form = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" not in form:
                # Bolt takes any form body containing the word "payload" for interactivity;
                # a slash command such as "/desk echo the payload" would be lost.
                bolt_request.body = form
                bolt_request.context = build_async_context(AsyncBoltContext({}), form)
        response = await self.app.async_dispatch(bolt_request)
        return web.Response(
            status=response.status,
            body=response.body,
            headers={k: v[0] for k, v in response.headers.items() if v and k != "content-length"},
        )
