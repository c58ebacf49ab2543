"""Route filters and rendering, by measurement: ``python -m bench.route_filters``.

1. Every item of the 52 real-world feeds in ../shared/data/feeds goes through a five-test route
   filter and is rendered as the route would post it (HTML to text, template, pings made
   inert): CPU per item, so a burst of items costs the relay nothing it would notice.
2. Why ``matches`` is RE2: a pattern with nested repetition against a title that almost
   matches, timed with RE2 (Steward's engine) and with Python's ``re`` side by side, as the
   title grows. ``re`` backtracks exponentially; RE2 stays linear.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cogs.announcements._filters import explain, parse
from cogs.announcements._items import Item
from cogs.announcements._parse import parse_feed
from cogs.announcements._render import Look, filter_values, post

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
FILTER = (
    "(title contains 'release' or categories equals 'news' or summary matches '(?i)launch')"
    " and not author equals 'bot' and not link matches '/sponsored/'"
)
EVIL = "(a+)+$"


def _items() -> list[tuple[Item, str]]:
    found = []
    for path in sorted(FEEDS.glob("*")):
        try:
            feed = parse_feed(path.read_bytes(), "https://example.org/")
        except Exception:
            continue
        found += [(item, feed.title or path.name) for item in feed.items]
    return found


def main() -> None:
    """Print both tables."""
    if not FEEDS.is_dir():
        sys.exit(f"needs ../shared/data/feeds ({FEEDS})")
    items = _items()
    node = parse(FILTER)
    assert node is not None
    tz = ZoneInfo("Europe/Paris")
    start = time.process_time()
    passed = sum(explain(node, filter_values(i, s))[0] for i, s in items)
    judged = time.process_time() - start
    start = time.process_time()
    for item, source in items:
        post(item, source, tz, Look())
    rendered = time.process_time() - start
    print(f"{len(items)} items from {FEEDS}; {passed} pass the filter")
    print("| step | CPU total | per item |")
    print("|---|---|---|")
    for name, spent in (("filter (5 tests, explained)", judged), ("render (embed)", rendered)):
        print(f"| {name} | {spent * 1000:.1f} ms | {spent / len(items) * 1e6:.1f} µs |")
    import re2

    compiled_re2, compiled_re = re2.compile(EVIL), re.compile(EVIL)
    print(f"\n`matches '{EVIL}'` against 'a' * n + '!'")
    print("| n | RE2 | Python re | re / RE2 |")
    print("|---|---|---|---|")
    for n in (16, 20, 22, 24):
        text = "a" * n + "!"
        timings = []
        for engine in (compiled_re2, compiled_re):
            start = time.perf_counter()
            engine.search(text)
            timings.append(time.perf_counter() - start)
        ratio = timings[1] / max(timings[0], 1e-9)
        print(f"| {n} | {timings[0] * 1e6:.0f} µs | {timings[1] * 1e3:.1f} ms | {ratio:,.0f}× |")


if __name__ == "__main__":
    main()
