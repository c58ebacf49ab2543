"""Signed webhooks out: Standard Webhooks signatures, and one POST where the address policy allows.

The signature is the one Steward checks on the way in (``cogs.announcements._signatures``):
HMAC-SHA256 over ``<webhook-id>.<webhook-timestamp>.<body>``, sent as ``webhook-signature:
v1,<base64>``. A secret written ``whsec_<base64>`` is the base64-decoded key, as the spec says.
The POST connects only where ``AddressPolicy`` allows (checked on the socket itself), follows no
redirect, reads at most a little of the answer, and never carries the secret anywhere but the
HMAC: no error text or log line names it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from bot.core.guard import AddressPolicy, BlockedDestination

USER_AGENT = "Steward webhooks (+https://github.com/steward)"


def standard_key(secret: bytes) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64), else the bytes as given."""
    if secret.startswith(b"whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except (binascii.Error, ValueError):
            return secret
    return secret


def sign(secret: bytes, ident: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one delivery (``v1,<base64>``)."""
    signed = f"{ident}.{timestamp}.".encode() + body
    mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(secret: bytes, ident: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (and the content type) for ``body``."""
    return {
        "content-type": "application/json",
        "webhook-id": ident,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, ident, timestamp, body),
    }


def web_address(url: str) -> str | None:
    """Why ``url`` is no address to post to (None: an http(s) address without credentials)."""
    if not url.strip().isprintable():
        return "that is not a web address"
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        return "that is not a web address"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "the address must start with https:// (or http://)"
    if parsed.user is not None or parsed.password is not None:
        return "the address must not hold a user name or password"
    return None


@dataclass(frozen=True, slots=True)
class Posted:
    """What became of one POST: the HTTP status, or a problem in plain words."""

    status: int | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """The receiver took it (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: AddressPolicy,
    *,
    within: float = 15.0,
) -> Posted:
    """POST ``body`` to ``url`` once; never raises for what the network or receiver does."""
    why = web_address(url)
    if why is not None:
        return Posted(None, why)

    def factory(addr_info: Any) -> socket.socket:
        return policy.socket_factory(addr_info)

    connector = aiohttp.TCPConnector(use_dns_cache=False, socket_factory=factory)
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector,
                trust_env=False,  # a proxy would hide the real destination from the check
                headers={"User-Agent": USER_AGENT},
            ) as session,
            asyncio.timeout(within),
            session.post(URL(url.strip()), data=body, headers=headers, allow_redirects=False) as r,
        ):
            await r.content.read(64 * 1024)
            return Posted(r.status)
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedDestination):
            return Posted(None, f"the address is on a private network ({exc.os_error.reason})")
        return Posted(None, "the receiver could not be reached")
    except TimeoutError:
        return Posted(None, "the receiver took too long to answer")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return Posted(None, f"the delivery failed ({type(exc).__name__})")
