"""Where discord.py sends REST calls and opens the gateway: the adapter's two endpoint settings."""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"


def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Point discord.py's REST (incl. interactions and webhooks) and gateway at these URLs.

    Both are process-wide class attributes that discord.py reads when it builds each request and
    when it connects, so call this before ``login()``/``start()``. Sharded clients read the gateway
    URL from ``GET /gateway/bot`` instead, which goes to ``api_base``.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def current_endpoints() -> tuple[str, str]:
    """Return the (api_base, gateway_url) discord.py currently uses."""
    return discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


def reset_endpoints() -> None:
    """Restore Discord's production endpoints."""
    configure_endpoints(DEFAULT_API_BASE, DEFAULT_GATEWAY_URL)
