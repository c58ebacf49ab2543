"""WebSub, pure: the hub a feed names, the subscription request, and when to renew the lease.

A feed names its hub with ``<link rel="hub" href=...>`` (Atom, or ``atom:link`` in RSS) and its
canonical address with ``rel="self"``; a JSON Feed lists ``hubs`` and its ``feed_url``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from urllib.parse import urljoin

from bot.core.parsing import digits_value

HEAD_BYTES = 64 * 1024
"""Hub links live in the feed's head; nothing past this is read for them."""
LEASE_ASKED = 10 * 86400
"""The lease Steward asks for (the hub may grant less)."""
RENEW_BEFORE = 0.1
"""Renew when this fraction of the granted lease is left (at least a minute before it ends)."""

_LINK = re.compile(rb"<(?:[A-Za-z0-9_]+:)?link\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True, slots=True)
class Hub:
    """Where to subscribe, and the topic (the feed's canonical address) to subscribe to."""

    hub: str
    topic: str


def find_hub(body: bytes, fetched_url: str) -> Hub | None:
    """The WebSub hub a feed document names, or None (no hub, or not http(s))."""
    head = body[:HEAD_BYTES]
    if head.lstrip()[:1] == b"{":
        return _json_hub(body, fetched_url)
    hub = topic = ""
    for match in _LINK.finditer(head):
        attrs = {
            m.group(1).lower(): (m.group(2) or m.group(3) or b"") for m in _ATTR.finditer(match[1])
        }
        rels = attrs.get(b"rel", b"").lower().split()
        href = unescape(attrs.get(b"href", b"").decode("utf-8", "replace")).strip()
        if b"hub" in rels and not hub:
            hub = href
        elif b"self" in rels and not topic:
            topic = href
    return _hub(hub, topic, fetched_url)


def _json_hub(body: bytes, fetched_url: str) -> Hub | None:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("hubs"), list):
        return None
    hubs = [
        h.get("url")
        for h in doc["hubs"]
        if isinstance(h, dict) and str(h.get("type", "")).lower() == "websub"
    ]
    topic = doc.get("feed_url")
    return _hub(
        hubs[0] if hubs and isinstance(hubs[0], str) else "",
        topic if isinstance(topic, str) else "",
        fetched_url,
    )


def _hub(hub: str, topic: str, fetched_url: str) -> Hub | None:
    if not hub:
        return None
    try:  # the feed's own text: "https://h.ex]" is no address (urljoin raises on it)
        hub = urljoin(fetched_url, hub)
        topic = urljoin(fetched_url, topic) if topic else fetched_url
    except ValueError:
        return None
    if not hub.startswith(("https://", "http://")) or not topic.startswith(("https://", "http://")):
        return None
    if len(hub) > 2048 or len(topic) > 2048:
        return None
    return Hub(hub, topic)


def request_form(mode: str, topic: str, callback: str, secret: str) -> dict[str, str]:
    """The form Steward POSTs to the hub to subscribe (with a secret) or unsubscribe."""
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if mode == "subscribe":
        form |= {"hub.secret": secret, "hub.lease_seconds": str(LEASE_ASKED)}
    return form


def lease_granted(query_value: str | None) -> int:
    """The lease the hub's verification grants, in seconds (its absence: what was asked)."""
    granted = digits_value(query_value or "", most=9)
    return LEASE_ASKED if granted is None else max(granted, 60)


def renew_at(now: datetime, lease_seconds: int) -> datetime:
    """When to renew a lease granted ``now``."""
    ahead = max(lease_seconds * RENEW_BEFORE, 60.0)
    return now + timedelta(seconds=max(lease_seconds - ahead, 30.0))
