"""Which feed parser, by measurement: ``python -m bench.feed_parsers [--repeat 3]``.

Parses the 52 real-world feeds of ../shared/data/feeds with each candidate (median of the
repeats, CPU time) and counts the items each recovers; then times every XML attack on Steward's
path against the standard library's parser.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import tracemalloc
import xml.etree.ElementTree as StdET
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastfeedparser
import feedparser

from cogs.announcements._jsonfeed import parse_json
from cogs.announcements._parse import parse_feed
from cogs.announcements._xmlsafe import parse_small_xml

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"


def _count(parse: Callable[[bytes], Any], body: bytes) -> int | None:
    try:
        result = parse(body)
    except Exception:
        return None
    entries = getattr(result, "entries", None)
    return len(entries if entries is not None else result.items)


CANDIDATES: dict[str, Callable[[bytes], Any]] = {
    "feedparser 6 defaults": lambda b: feedparser.parse(io.BytesIO(b)),
    "feedparser, no sanitize": lambda b: feedparser.parse(
        io.BytesIO(b), sanitize_html=False, resolve_relative_uris=False
    ),
    "fastfeedparser 0.6": fastfeedparser.parse,
    "Steward parse_feed": parse_feed,
}


def _timed(
    parse: Callable[[bytes], Any], bodies: list[bytes], repeat: int
) -> tuple[float, list[int | None]]:
    """Median CPU ms over ``repeat`` runs, and the item count of each body."""
    times = []
    counts: list[int | None] = []
    for _ in range(repeat):
        start = time.process_time()
        counts = [_count(parse, body) for body in bodies]
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000, counts


def parsers(files: list[Path], repeat: int) -> list[tuple[str, ...]]:
    """Rows: candidate, CPU ms for all feeds, items found, feeds failed, speed vs feedparser."""
    bodies = [f.read_bytes() for f in files]
    rows: list[tuple[str, float, int, int]] = []
    for name, parse in CANDIDATES.items():
        ms, counts = _timed(parse, bodies, repeat)
        rows.append((name, ms, sum(c or 0 for c in counts), sum(1 for c in counts if not c)))
    base = rows[0][1]
    return [
        (n, f"{ms:.1f}", str(found), str(failed), f"{base / ms:.1f}x")
        for n, ms, found, failed in rows
    ]


def json_feeds(files: list[Path], repeat: int) -> list[tuple[str, ...]]:
    """Rows for the JSON Feed files only: fastfeedparser against Steward's own reader."""
    bodies = [f.read_bytes() for f in files if f.suffix == ".json"]
    out = []
    for name, parse in (
        ("fastfeedparser 0.6", fastfeedparser.parse),
        ("Steward _jsonfeed", lambda b: parse_json(b, "")),
    ):
        times = []
        for _ in range(repeat):
            start = time.process_time()
            counts = [_count(parse, body) for body in bodies]
            times.append(time.process_time() - start)
        found = sum(c or 0 for c in counts)
        out.append(
            (
                name,
                f"{statistics.median(times) * 1000:.1f}",
                str(found),
                str(sum(1 for c in counts if not c)),
                "",
            )
        )
    return out


def attacks() -> list[tuple[str, ...]]:
    """Rows: each XML attack on Steward's feed path, OPML path, and stdlib ElementTree."""
    from tests.cogs.announcements.test_xml_attacks import attacks as documents

    out = []
    for name, body in documents(Path("/nonexistent"), "http://127.0.0.3:9").items():
        cells = [name]
        for parse in (parse_feed, parse_small_xml, StdET.fromstring):
            tracemalloc.start()
            start = time.perf_counter()
            try:
                parse(body)
                outcome = "parsed"
            except Exception as exc:
                outcome = type(exc).__name__
            elapsed = (time.perf_counter() - start) * 1000
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            cells.append(f"{outcome} {elapsed:.0f} ms {peak:.1f} MB")
        out.append(tuple(cells))
    return out


def show(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print an aligned table."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()


def main(argv: list[str] | None = None) -> int:
    """Print the three tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.feed_parsers")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not FEEDS.is_dir():
        print(f"../shared is absent ({FEEDS})", file=sys.stderr)
        return 2
    files = sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".json"))
    print(f"{len(files)} real-world feeds, CPU time, median of {args.repeat}\n")
    show(
        ("parser", "CPU ms (all)", "items", "feeds with 0", "vs feedparser"),
        parsers(files, args.repeat),
    )
    show(
        ("JSON Feed reader", "CPU ms (json)", "items", "feeds with 0", ""),
        json_feeds(files, args.repeat),
    )
    show(("attack", "Steward feed path", "OPML (defusedxml)", "stdlib ElementTree"), attacks())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
