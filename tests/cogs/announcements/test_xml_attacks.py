"""XML attacks are inert on every XML path: feed bytes, OPML files, WebSub push bodies."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from cogs.announcements._items import Feed
from cogs.announcements._parse import NotAFeed, parse_feed
from cogs.announcements._xmlsafe import UnsafeXml, defang, parse_small_xml
from sandbox.feeds import FeedServer

SECRET = "CANARY-7f3a-do-not-leak"


def _laughs() -> bytes:
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(ents) + "]>"
        "<rss><channel><title>t</title><item><title>&lol9;</title><guid>a</guid></item>"
        "</channel></rss>"
    ).encode()


def _quadratic() -> bytes:
    big = "x" * 100_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
        "<rss><channel><item><title>" + "&a;" * 2000 + "</title><guid>q</guid></item>"
        "</channel></rss>"
    ).encode()


def _xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{path}">]>'
        "<rss><channel><item><title>&xxe;</title><guid>x</guid></item></channel></rss>"
    ).encode()


def _external_dtd(url: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{url}/evil.dtd">'
        f"<!-- --><rss><channel><item><title>t</title><guid>d</guid></item></channel></rss>"
    ).encode()


def _parameter_entity(url: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "{url}/evil.dtd"> %remote;]>'
        "<rss><channel><item><title>t</title><guid>p</guid></item></channel></rss>"
    ).encode()


def _deep() -> bytes:
    return b"<rss><channel>" + b"<a>" * 100_000 + b"x" + b"</a>" * 100_000 + b"</channel></rss>"


def _token() -> bytes:
    return b"<rss><channel><item><title>" + b"A" * 10_000_000 + b"</title></item></channel></rss>"


def _utf16_laughs() -> bytes:
    return b"\xff\xfe" + _laughs().decode().encode("utf-16-le")


def attacks(secret_file: Path, canary_url: str) -> dict[str, bytes]:
    """Every attack document, by name."""
    return {
        "billion laughs": _laughs(),
        "billion laughs in UTF-16": _utf16_laughs(),
        "quadratic blowup": _quadratic(),
        "external entity (file)": _xxe(secret_file),
        "external DTD": _external_dtd(canary_url),
        "parameter entity DTD": _parameter_entity(canary_url),
        "deep nesting": _deep(),
        "10 MB token": _token(),
    }


def _measure(parse: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            result: object = parse()
        except (NotAFeed, UnsafeXml) as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _text_of(result: object) -> str:
    if isinstance(result, Feed):
        return " ".join(i.title + i.summary for i in result.items) + result.title
    return str(result)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A local file an XXE would try to read."""
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


async def test_feed_and_push_bodies_shrug_off_xml_attacks(
    secret_file: Path, canary: FeedServer
) -> None:
    for name, body in attacks(secret_file, canary.base_url).items():
        result, peak = _measure(lambda body=body: parse_feed(body, "https://example.org/"))
        text = _text_of(result)
        assert SECRET not in text, name
        assert "lollollol" not in text, name
        assert "x" * 200_000 not in text, name
        assert peak < 60 * 1024 * 1024, (name, peak)
    assert canary.connections == 0


async def test_opml_refuses_any_dtd(secret_file: Path, canary: FeedServer) -> None:
    for name, body in attacks(secret_file, canary.base_url).items():
        if name in ("deep nesting", "10 MB token"):
            continue  # no DTD in those: see the next test
        with pytest.raises(UnsafeXml):
            parse_small_xml(body)
    assert canary.connections == 0


def test_opml_without_dtd_still_parses() -> None:
    root = parse_small_xml(
        b'<opml version="2.0"><body><outline xmlUrl="https://a.example/f"/></body></opml>'
    )
    assert root.find("body/outline") is not None


def test_defang_removes_every_declaration(secret_file: Path) -> None:
    for name, body in attacks(secret_file, "http://127.0.0.3").items():
        assert b"<!ENTITY" not in defang(body) and b"<!DOCTYPE" not in defang(body), name
