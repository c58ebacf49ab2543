"""Signed webhooks: a manager makes one, a sender posts to Steward's real HTTP endpoint, members
see each announcement once; forgeries, downgrades, stale and replayed deliveries are refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
from datetime import timedelta

import aiohttp
import pytest

from bot.builtin import Steward
from sandbox.scenario import Community, Posted, start_steward, stop_steward
from tests.cogs.announcements.conftest import announcements, shown_as
from tests.cogs.announcements.conftest import relayed as relayed_in

RELEASE_URL = "https://github.com/brand/app/releases/tag/v"


def shown(text: str) -> tuple[str, str]:
    """The address and the secret a manager was shown."""
    url = re.search(r"Address: (\S+)", text)
    secret = re.search(r"Secret: `([^`]+)`", text)
    assert url and secret, text
    return url.group(1), secret.group(1)


def release(version: str, title: str = "") -> bytes:
    """GitHub's `release` event body, published."""
    doc = {
        "action": "published",
        "release": {
            "id": hash(version) & 0xFFFFFF,
            "tag_name": f"v{version}",
            "name": title or f"v{version}",
            "html_url": RELEASE_URL + version,
            "draft": False,
            "body": "Notes",
            "published_at": "2026-12-06T12:00:00Z",
            "author": {"login": "octo"},
        },
        "repository": {"full_name": "brand/app"},
    }
    return json.dumps(doc).encode()


def github_headers(body: bytes, secret: str, delivery: str) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "release",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={mac}",
    }


def standard_headers(body: bytes, secret: str, delivery: str, stamp: int) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery}.{stamp}.".encode() + body
    sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "webhook-id": delivery,
        "webhook-timestamp": str(stamp),
        "webhook-signature": f"v1,{sig}",
    }


def relayed(community: Community, marker: str = RELEASE_URL) -> list[Posted]:
    return relayed_in(community, marker=marker)


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.text()


async def test_a_github_release_is_posted_once_and_forgeries_are_refused(
    hooked: Community, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ada, alice = hooked.people["ada"], hooked.people["alice"]
    made = await hooked.slash(ada, "announcements webhook create", channel="#general")
    assert made.ephemeral and "shown once" in made.text
    url, secret = shown(made.text)
    assert url.startswith("http://127.0.0.1:") and "/announcements/hooks/" in url
    pings = {name: len(hooked.pings_of(p)) for name, p in hooked.people.items()}

    body = release("1.0", f"Big news @everyone @here <@{alice.id}> <!channel>")
    assert await post(url, body, github_headers(body, secret, "d-1")) == (
        202,
        "accepted, 1 to post",
    )
    await hooked.settle()
    [first] = relayed(hooked)
    title, link = shown_as(hooked, first)
    assert title.startswith("brand/app Big news") and link == RELEASE_URL + "1.0"
    assert {name: len(hooked.pings_of(p)) for name, p in hooked.people.items()} == pings

    for _ in range(5):  # the same delivery again: accepted once, never posted twice
        status, _text = await post(url, body, github_headers(body, secret, "d-1"))
        assert status == 200
    second = release("1.1")  # a sender retrying five times at once: one of them is taken
    tries = [post(url, second, github_headers(second, secret, "d-9")) for _ in range(5)]
    assert sorted(status for status, _ in await asyncio.gather(*tries)) == [200] * 4 + [202]
    flipped = bytearray(body)
    flipped[10] ^= 1
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    forged = [
        (body, github_headers(body, "wrong secret", "d-2")),
        (bytes(flipped), github_headers(body, secret, "d-3")),
        (body, {"X-GitHub-Delivery": "d-4", "X-Hub-Signature": f"sha1={sha1}"}),  # downgrade
        (body, {"X-GitHub-Delivery": "d-5", "X-Hub-Signature-256": "sha256=zz"}),
        (body, {"X-GitHub-Delivery": "d-6"}),
    ]
    for forged_body, headers in forged:
        assert (await post(url, forged_body, headers))[0] == 401
    assert (await post(url + "x", body, github_headers(body, secret, "d-7")))[0] == 404
    await hooked.settle()
    assert len(relayed(hooked)) == 2

    exported = await hooked.slash(ada, "announcements export")  # a webhook is not a feed
    assert exported.text.startswith("There are no feeds to export yet")
    listed = await hooked.slash(ada, "announcements webhook list")
    assert "GitHub webhook (GitHub)" in listed.text and secret not in listed.text
    everything = [m.text for c in hooked.channel_names() for m in hooked.everything_in(c)]
    assert not any(secret in text for text in everything)
    assert secret not in caplog.text and url.rsplit("/", 1)[1] not in caplog.text

    gone = await hooked.slash(ada, "announcements webhook remove", hook="1")
    assert "refuses deliveries" in gone.text
    body = release("2.0")
    assert (await post(url, body, github_headers(body, secret, "d-8")))[0] == 404


async def test_standard_webhooks_check_time_and_keep_the_old_secret_while_rotating(
    hooked: Community,
) -> None:
    ada = hooked.people["ada"]
    made = await hooked.slash(
        ada,
        "announcements webhook create",
        channel="#general",
        scheme="standard",
        name="CMS",
        mapping="title=post.title, link=post.url, guid=post.id",
    )
    url, old = shown(made.text)
    assert old.startswith("whsec_")
    now = int(hooked.clock.now().timestamp())

    def news(n: int) -> bytes:
        return json.dumps(
            {"post": {"id": n, "title": f"Post {n}", "url": f"https://e.org/{n}"}}
        ).encode()

    stale = news(1)
    assert (await post(url, stale, standard_headers(stale, old, "m-1", now - 301)))[0] == 401
    assert (await post(url, stale, standard_headers(stale, old, "m-1", now + 301)))[0] == 401
    assert (await post(url, stale, standard_headers(stale, old, "m-1", now)))[0] == 202
    await stop_steward(hooked)  # the replay set is in the database: a restart keeps it
    await start_steward(hooked, [Steward(), announcements()])
    assert hooked.app.web is not None
    url = f"http://127.0.0.1:{hooked.app.web.port}/announcements/hooks/{url.rsplit('/', 1)[1]}"
    assert (await post(url, stale, standard_headers(stale, old, "m-1", now)))[0] == 200

    rotated = await hooked.slash(
        ada, "announcements webhook rotate", hook="1", keep=timedelta(hours=2)
    )
    _, new = shown(rotated.text)
    assert new != old and "old secret works until" in rotated.text
    second, third = news(2), news(3)
    assert (await post(url, second, standard_headers(second, old, "m-2", now)))[0] == 202
    assert (await post(url, third, standard_headers(third, new, "m-3", now)))[0] == 202
    await hooked.advance(hours=3)  # the old secret has expired
    later = int(hooked.clock.now().timestamp())
    fourth = news(4)
    assert (await post(url, fourth, standard_headers(fourth, old, "m-4", later)))[0] == 401
    await hooked.settle()
    posts = [shown_as(hooked, m) for m in relayed(hooked, "https://e.org/")]
    assert posts == [(f"Post {n}", f"https://e.org/{n}") for n in (1, 2, 3)]
    await hooked.advance(days=8)  # delivery ids are forgotten after a week; items are not
    later = int(hooked.clock.now().timestamp())
    again = await post(url, stale, standard_headers(stale, new, "m-1", later))
    assert again == (202, "accepted, 0 to post")


async def test_without_an_http_endpoint_a_webhook_says_what_the_operator_sets(
    community: Community,
) -> None:
    made = await community.slash(
        community.people["ada"], "announcements webhook create", channel="#general"
    )
    assert made.ephemeral and "STEWARD_HTTP_PORT" in made.text and "Secret" not in made.text
    assert community.app.web is None
