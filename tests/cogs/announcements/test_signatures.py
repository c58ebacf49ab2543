"""The webhook signature table: only valid, fresh, first-time deliveries are processed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.announcements._signatures import (
    Refusal,
    Scheme,
    SeenDeliveries,
    admit,
    websub_challenge,
)

NOW = 1_800_000_000.0
BODY = b'{"action":"published","release":{"tag_name":"v1.2.0","name":"Steward 1.2"}}'
SECRET = b"current-secret-0123456789"
OLD = b"previous-secret-9876543210"
WRONG = b"someone-elses-secret"
STD_KEY = b"\x01" * 24
STD_SECRET = b"whsec_" + base64.b64encode(STD_KEY)
STD_OLD = b"whsec_" + base64.b64encode(b"\x02" * 24)


def github(
    body: bytes, secret: bytes, delivery: str = "d-1", algo: str = "sha256"
) -> dict[str, str]:
    mac = hmac.new(secret, body, getattr(hashlib, algo)).hexdigest()
    name = "X-Hub-Signature-256" if algo == "sha256" else "X-Hub-Signature"
    return {name: f"{algo}={mac}", "X-GitHub-Delivery": delivery, "X-GitHub-Event": "release"}


def standard(body: bytes, secret: bytes, ident: str = "msg_1", at: float = NOW) -> dict[str, str]:
    key = base64.b64decode(secret[6:])
    signed = f"{ident}.{int(at)}.".encode() + body
    sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": ident,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": f"v1,{sig}",
    }


def websub(body: bytes, secret: bytes, algo: str = "sha256") -> dict[str, str]:
    return {
        "X-Hub-Signature": f"{algo}={hmac.new(secret, body, getattr(hashlib, algo)).hexdigest()}"
    }


def flip(body: bytes) -> bytes:
    return body[:10] + bytes([body[10] ^ 1]) + body[11:]


def _without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


GH_CASES = [
    ("valid", BODY, github(BODY, SECRET), 202, True),
    ("wrong secret", BODY, github(BODY, WRONG, "d-2"), 401, False),
    ("one byte flipped", flip(BODY), github(BODY, SECRET, "d-3"), 401, False),
    ("sha1 downgrade", BODY, github(BODY, SECRET, "d-4", algo="sha1"), 401, False),
    (
        "sha1 in the 256 header",
        BODY,
        {"X-Hub-Signature-256": "sha1=" + "0" * 40, "X-GitHub-Delivery": "d-5"},
        401,
        False,
    ),
    ("missing signature", BODY, {"X-GitHub-Delivery": "d-6"}, 401, False),
    (
        "uppercase hex",
        BODY,
        {
            **github(BODY, SECRET, "d-7"),
            "X-Hub-Signature-256": github(BODY, SECRET)["X-Hub-Signature-256"].upper(),
        },
        401,
        False,
    ),
    (
        "short hex",
        BODY,
        {**github(BODY, SECRET, "d-8"), "X-Hub-Signature-256": "sha256=abc"},
        401,
        False,
    ),
    (
        "non-hex",
        BODY,
        {**github(BODY, SECRET, "d-9"), "X-Hub-Signature-256": "sha256=" + "z" * 64},
        401,
        False,
    ),
    (
        "no equals sign",
        BODY,
        {**github(BODY, SECRET, "d-10"), "X-Hub-Signature-256": "sha256"},
        401,
        False,
    ),
    ("missing delivery id", BODY, _without(github(BODY, SECRET), "X-GitHub-Delivery"), 401, False),
    *[(f"replay {n}", BODY, github(BODY, SECRET), 200, False) for n in range(1, 6)],
    ("old secret while rotating", BODY, github(BODY, OLD, "d-11"), 202, True),
    ("too large", b"x" * (1024 * 1024 + 1), github(b"x", SECRET, "d-12"), 413, False),
]

STD_CASES = [
    ("valid", BODY, standard(BODY, STD_SECRET), 202, True),
    (
        "wrong secret",
        BODY,
        standard(BODY, b"whsec_" + base64.b64encode(b"\x09" * 24), "msg_2"),
        401,
        False,
    ),
    ("one byte flipped", flip(BODY), standard(BODY, STD_SECRET, "msg_3"), 401, False),
    ("stale", BODY, standard(BODY, STD_SECRET, "msg_4", at=NOW - 301), 401, False),
    ("from the future", BODY, standard(BODY, STD_SECRET, "msg_5", at=NOW + 301), 401, False),
    (
        "timestamp not a number",
        BODY,
        {**standard(BODY, STD_SECRET, "msg_6"), "webhook-timestamp": "1.8e9"},
        401,
        False,
    ),
    (
        "timestamp in superscript digits",
        BODY,
        {**standard(BODY, STD_SECRET, "msg_15"), "webhook-timestamp": "\u00b2" * 3},
        401,
        False,
    ),
    ("missing id", BODY, _without(standard(BODY, STD_SECRET, "msg_7"), "webhook-id"), 401, False),
    (
        "missing signature",
        BODY,
        _without(standard(BODY, STD_SECRET, "msg_8"), "webhook-signature"),
        401,
        False,
    ),
    (
        "bad base64",
        BODY,
        {**standard(BODY, STD_SECRET, "msg_9"), "webhook-signature": "v1,!!!"},
        401,
        False,
    ),
    (
        "unknown version only",
        BODY,
        {**standard(BODY, STD_SECRET, "msg_10"), "webhook-signature": "v9,abc="},
        401,
        False,
    ),
    (
        "id re-signed under another id",
        BODY,
        {**standard(BODY, STD_SECRET, "msg_11"), "webhook-id": "msg_12"},
        401,
        False,
    ),
    *[(f"replay {n}", BODY, standard(BODY, STD_SECRET), 200, False) for n in range(1, 6)],
    ("old secret while rotating", BODY, standard(BODY, STD_OLD, "msg_13"), 202, True),
    (
        "two signatures, one valid",
        BODY,
        {
            **standard(BODY, STD_SECRET, "msg_14"),
            "webhook-signature": "v1,"
            + base64.b64encode(b"\0" * 32).decode()
            + " "
            + standard(BODY, STD_SECRET, "msg_14")["webhook-signature"],
        },
        202,
        True,
    ),
]

SUB_CASES = [
    ("valid sha256", BODY, websub(BODY, SECRET), 202, True),
    ("valid sha512", BODY, websub(BODY, SECRET, "sha512"), 202, True),
    ("wrong secret", BODY, websub(BODY, WRONG), 202, False),
    ("one byte flipped", flip(BODY), websub(BODY, SECRET), 202, False),
    ("sha1 downgrade", BODY, websub(BODY, SECRET, "sha1"), 202, False),
    ("unknown algorithm", BODY, {"X-Hub-Signature": "md5=" + "0" * 32}, 202, False),
    ("unsigned", BODY, {}, 202, False),
    ("malformed", BODY, {"X-Hub-Signature": "sha256=xyz"}, 202, False),
]


@pytest.mark.parametrize(
    ("scheme", "cases", "secrets"),
    [
        (Scheme.GITHUB, GH_CASES, [SECRET, OLD]),
        (Scheme.STANDARD, STD_CASES, [STD_SECRET, STD_OLD]),
        (Scheme.WEBSUB, SUB_CASES, [SECRET]),
    ],
)
def test_signature_table(
    scheme: Scheme, cases: list[tuple[str, bytes, dict[str, str], int, bool]], secrets: list[bytes]
) -> None:
    seen = SeenDeliveries()
    processed = 0
    for name, body, headers, status, process in cases:
        got = admit(scheme, body, headers, secrets, NOW, seen)
        assert (got.status, got.process) == (status, process), (name, got)
        assert got.status != 500
        processed += got.process
    assert processed == sum(1 for case in cases if case[4])


def test_after_rotation_the_old_secret_is_refused() -> None:
    got = admit(Scheme.GITHUB, BODY, github(BODY, OLD, "r-1"), [SECRET], NOW, SeenDeliveries())
    assert (got.status, got.refusal) == (401, Refusal.MISMATCH)


def test_a_replay_after_the_horizon_is_new_again() -> None:
    seen = SeenDeliveries(horizon=60)
    assert admit(Scheme.GITHUB, BODY, github(BODY, SECRET), [SECRET], NOW, seen).process
    assert not admit(Scheme.GITHUB, BODY, github(BODY, SECRET), [SECRET], NOW + 59, seen).process
    assert admit(Scheme.GITHUB, BODY, github(BODY, SECRET), [SECRET], NOW + 61, seen).process


def test_websub_challenge_is_echoed_only_for_topics_steward_asked_for() -> None:
    pending = {"https://e.org/feed": "subscribe"}
    ask = {"hub.mode": "subscribe", "hub.topic": "https://e.org/feed", "hub.challenge": "c-42"}
    assert websub_challenge(ask, pending) == "c-42"
    assert websub_challenge({**ask, "hub.topic": "https://evil.example/"}, pending) is None
    assert websub_challenge({**ask, "hub.mode": "unsubscribe"}, pending) is None
    assert websub_challenge({**ask, "hub.challenge": ""}, pending) is None


@given(
    body=st.binary(max_size=512),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "X-Hub-Signature-256",
                "X-Hub-Signature",
                "X-GitHub-Delivery",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
            ]
        ),
        st.text(max_size=80),
    ),
    scheme=st.sampled_from(list(Scheme)),
)
def test_garbage_headers_are_refused_never_crash(
    body: bytes, headers: dict[str, str], scheme: Scheme
) -> None:
    got = admit(scheme, body, headers, [SECRET, STD_SECRET], NOW, SeenDeliveries())
    assert not got.process and got.status in (202, 401)
