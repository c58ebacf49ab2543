"""Inbound webhook signatures: GitHub, Standard Webhooks and WebSub, checked strictly and once.

Pure: raw body bytes, headers and secrets in, an ``Admission`` out. HMAC over the raw bytes,
digests compared as bytes in constant time, headers parsed strictly (wrong length, non-hex,
unknown or downgraded algorithm: refused), a timestamp window where the scheme has one, and a
delivery id accepted once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.webhooks import standard_key

MAX_BODY = 1024 * 1024
TOLERANCE = 300.0
"""Seconds a Standard Webhooks timestamp may be off, either way (the spec's five minutes)."""
REPLAY_HORIZON = 7 * 86400.0
"""How long delivery ids are remembered: longer than GitHub's and Svix's retry schedules."""

_HEX = re.compile(r"[0-9a-f]+")
_DIGESTS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
WEBSUB_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})


class Scheme(StrEnum):
    """Which signature a webhook expects."""

    GITHUB = "github"
    STANDARD = "standard"
    WEBSUB = "websub"


class Refusal(StrEnum):
    """Why a delivery was refused (logged; never shown to the sender in detail)."""

    TOO_LARGE = "body too large"
    MISSING = "signature header missing"
    MALFORMED = "signature header malformed"
    DOWNGRADE = "algorithm not allowed"
    MISMATCH = "signature does not match"
    STALE = "timestamp outside the window"
    REPLAY = "delivery already accepted"


@dataclass(frozen=True, slots=True)
class Admission:
    """The HTTP status to answer, whether to process the body, and why not."""

    status: int
    process: bool
    delivery_id: str | None = None
    refusal: Refusal | None = None


@dataclass
class SeenDeliveries:
    """Delivery ids accepted within the replay horizon (the store keeps the same per webhook)."""

    horizon: float = REPLAY_HORIZON
    ids: dict[str, float] = field(default_factory=dict)

    def first_time(self, delivery_id: str, now: float) -> bool:
        """Record ``delivery_id``; False when it was already accepted within the horizon."""
        if len(self.ids) > 10_000:
            self.ids = {k: t for k, t in self.ids.items() if now - t < self.horizon}
        seen = self.ids.get(delivery_id)
        if seen is not None and now - seen < self.horizon:
            return False
        self.ids[delivery_id] = now
        return True


def admit(
    scheme: Scheme,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[bytes],
    now: float,
    seen: SeenDeliveries,
    *,
    algorithms: frozenset[str] = WEBSUB_ALGORITHMS,
) -> Admission:
    """Decide on one delivery; ``secrets`` holds the current one and, while rotating, the old."""
    lower = {k.lower(): v for k, v in headers.items()}
    if len(body) > MAX_BODY:
        return Admission(413, False, refusal=Refusal.TOO_LARGE)
    if scheme is Scheme.GITHUB:
        refusal = _github(body, lower, secrets)
        delivery = lower.get("x-github-delivery")
    elif scheme is Scheme.STANDARD:
        refusal = _standard(body, lower, secrets, now)
        delivery = lower.get("webhook-id")
    else:
        refusal = _websub(body, lower, secrets, algorithms)
        delivery = None
    if refusal is not None:
        # WebSub 7.1.2: acknowledge a bad signature with 2xx, but ignore the content.
        return Admission(202 if scheme is Scheme.WEBSUB else 401, False, refusal=refusal)
    if delivery is None and scheme is Scheme.WEBSUB:
        return Admission(202, True)
    if not delivery or len(delivery) > 200:
        return Admission(401, False, refusal=Refusal.MISSING)
    if not seen.first_time(f"{scheme}:{delivery}", now):
        return Admission(200, False, delivery, Refusal.REPLAY)  # the sender may stop retrying
    return Admission(202, True, delivery)


def _matches(
    expected_hex_or_raw: bytes, body_parts: bytes, secrets: Sequence[bytes], algo: str
) -> bool:
    digest = _DIGESTS[algo]
    ok = False
    for secret in secrets:  # every secret is tried, so timing says nothing about which matched
        mac = hmac.new(secret, body_parts, digest).digest()
        ok |= hmac.compare_digest(mac, expected_hex_or_raw)
    return ok


def _hex_signature(value: str, algo: str) -> bytes | None:
    size = _DIGESTS[algo]().digest_size * 2
    if len(value) != size or not _HEX.fullmatch(value):
        return None
    return bytes.fromhex(value)


def _github(body: bytes, headers: Mapping[str, str], secrets: Sequence[bytes]) -> Refusal | None:
    header = headers.get("x-hub-signature-256")
    if header is None:
        return Refusal.DOWNGRADE if "x-hub-signature" in headers else Refusal.MISSING
    algo, sep, value = header.strip().partition("=")
    if not sep or algo != "sha256":
        return Refusal.DOWNGRADE if sep else Refusal.MALFORMED
    wanted = _hex_signature(value, "sha256")
    if wanted is None:
        return Refusal.MALFORMED
    return None if _matches(wanted, body, secrets, "sha256") else Refusal.MISMATCH


def _standard(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[bytes], now: float
) -> Refusal | None:
    ident, stamp, header = (
        headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not ident or not stamp or not header:
        return Refusal.MISSING
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12 or not ident.isprintable():
        return Refusal.MALFORMED
    if abs(now - int(stamp)) > TOLERANCE:
        return Refusal.STALE
    signed = f"{ident}.{stamp}.".encode() + body
    keys = [standard_key(s) for s in secrets]
    candidates = []
    for part in header.split():
        version, sep, value = part.partition(",")
        if version != "v1" or not sep:
            continue  # other versions (v1a: asymmetric) are not ours to check
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return Refusal.MALFORMED
        if len(raw) != hashlib.sha256().digest_size:
            return Refusal.MALFORMED
        candidates.append(raw)
    if not candidates:
        return Refusal.MALFORMED
    found = [_matches(raw, signed, keys, "sha256") for raw in candidates]
    return None if any(found) else Refusal.MISMATCH


def _websub(
    body: bytes, headers: Mapping[str, str], secrets: Sequence[bytes], algorithms: frozenset[str]
) -> Refusal | None:
    header = headers.get("x-hub-signature")
    if header is None:
        return Refusal.MISSING  # a subscription made with a secret must reject unsigned pushes
    algo, sep, value = header.strip().partition("=")
    if not sep or algo not in _DIGESTS:
        return Refusal.MALFORMED
    if algo not in algorithms:
        return Refusal.DOWNGRADE
    wanted = _hex_signature(value, algo)
    if wanted is None:
        return Refusal.MALFORMED
    return None if _matches(wanted, body, secrets, algo) else Refusal.MISMATCH


def websub_challenge(query: Mapping[str, str], pending: Mapping[str, str]) -> str | None:
    """The hub's verification GET: echo ``hub.challenge`` only for a topic Steward asked for.

    ``pending`` maps each topic Steward subscribed to (or unsubscribed from) to that mode.
    """
    mode, topic, challenge = (query.get(k) for k in ("hub.mode", "hub.topic", "hub.challenge"))
    if mode not in ("subscribe", "unsubscribe") or not topic or not challenge:
        return None
    if pending.get(topic) != mode or len(challenge) > 512:
        return None
    return challenge
