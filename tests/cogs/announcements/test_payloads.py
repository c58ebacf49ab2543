"""A verified delivery becomes items: GitHub releases, any JSON through a mapping, WebSub feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogs.announcements._payloads import PayloadError, check_mapping, items_from_delivery
from cogs.announcements._signatures import Scheme
from tests.cogs.announcements.conftest import feeds_dir
from tests.cogs.announcements.test_xml_attacks import SECRET, attacks

RELEASE = {
    "action": "published",
    "release": {
        "id": 1234,
        "tag_name": "v1.2.0",
        "name": "Steward 1.2",
        "html_url": "https://github.com/acme/steward/releases/tag/v1.2.0",
        "body": "Feeds and webhooks in @everyone",
        "published_at": "2026-12-06T10:00:00Z",
        "author": {"login": "ada"},
        "draft": False,
    },
    "repository": {"full_name": "acme/steward"},
}


def test_a_published_github_release_is_one_item() -> None:
    body = json.dumps(RELEASE).encode()
    [item] = items_from_delivery(Scheme.GITHUB, {"X-GitHub-Event": "release"}, body, "d-1")
    assert item.guid == "github-release:1234" and item.title == "acme/steward Steward 1.2"
    assert item.link == "https://github.com/acme/steward/releases/tag/v1.2.0"
    assert item.author == "ada" and item.published is not None
    for event, change in [("release", {"action": "edited"}), ("ping", {}), ("push", {})]:
        other = json.dumps({**RELEASE, **change}).encode()
        assert items_from_delivery(Scheme.GITHUB, {"X-GitHub-Event": event}, other, "d") == ()


def test_any_json_through_a_mapping() -> None:
    body = json.dumps(
        {"post": {"headline": "Launch day", "permalink": "https://e.org/launch", "n": 7}}
    ).encode()
    mapping = check_mapping({"title": "post.headline", "link": "post.permalink", "guid": "post.n"})
    [item] = items_from_delivery(Scheme.STANDARD, {}, body, "msg_1", mapping=mapping)
    assert (item.guid, item.title, item.link) == ("7", "Launch day", "https://e.org/launch")
    [plain] = items_from_delivery(
        Scheme.STANDARD, {}, b'{"title": "Hi", "url": "javascript:x"}', "msg_2"
    )
    assert plain.guid == "msg_2" and plain.link is None  # only http(s) links pass
    assert items_from_delivery(Scheme.STANDARD, {}, b'{"nothing": 1}', "msg_3") == ()
    with pytest.raises(PayloadError):
        check_mapping({"colour": "a.b"})
    for path in ("items[0].title", "a..b", "", "a.b.c.d.e.f.g.h.i"):
        with pytest.raises(PayloadError):
            check_mapping({"title": path})
    for bad in (b"not json", b"[1]", b"\xff\xfe", b"[" * 100_000):
        with pytest.raises(PayloadError):
            items_from_delivery(Scheme.STANDARD, {}, bad, "msg_4")


def test_a_websub_push_is_a_feed_and_xml_attacks_stay_inert(tmp_path: Path) -> None:
    youtube = (feeds_dir() / "youtube__google.xml").read_bytes()
    assert len(items_from_delivery(Scheme.WEBSUB, {}, youtube, None)) == 15
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    for name, body in attacks(secret, "http://127.0.0.3:9").items():
        try:
            items = items_from_delivery(Scheme.WEBSUB, {}, body, None)
        except PayloadError:
            continue
        assert all(SECRET not in i.title and "lollol" not in i.title for i in items), name
