"""Fetch and parse in one step that never raises: what a poll or a ``check`` needs to know."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cogs.announcements._discover import alternates, known_feed
from cogs.announcements._fetch import Fetched, Fetcher, FetchError, Problem, Validators
from cogs.announcements._items import Feed
from cogs.announcements._parse import NotAFeed, parse_feed

# Parsing a large document takes tens of milliseconds; off the event loop, it delays nothing.
_THREAD_ABOVE = 512 * 1024


@dataclass(frozen=True, slots=True)
class Reading:
    """One poll's outcome: a parsed feed, "not modified", or the problem, never an exception."""

    fetched: Fetched | None = None
    feed: Feed | None = None
    error: FetchError | None = None

    @property
    def ok(self) -> bool:
        """Whether the fetch worked (new content parsed, or not modified)."""
        return self.error is None


async def read_feed(fetcher: Fetcher, url: str, validators: Validators | None = None) -> Reading:
    """Fetch ``url`` conditionally and parse what came back; problems come back as ``error``."""
    try:
        fetched = await fetcher.get(url, validators)
    except FetchError as exc:
        return Reading(error=exc)
    if fetched.body is None:
        return Reading(fetched=fetched)
    try:
        if len(fetched.body) > _THREAD_ABOVE:
            feed = await asyncio.to_thread(parse_feed, fetched.body, fetched.url)
        else:
            feed = parse_feed(fetched.body, fetched.url)
    except NotAFeed as exc:
        return Reading(fetched=fetched, error=FetchError(Problem.NOT_A_FEED, str(exc)))
    return Reading(fetched=fetched, feed=feed)


async def find_feed(fetcher: Fetcher, url: str) -> tuple[str, Reading]:
    """The feed behind what a manager pasted: a known site's feed, the URL itself, or the feed
    its page advertises; returns the feed's address and its first reading."""
    target = known_feed(url) or url
    reading = await read_feed(fetcher, target)
    problem = reading.error.problem if reading.error else None
    if problem is not Problem.NOT_A_FEED or reading.fetched is None:
        return target, reading
    page = reading.fetched.body or b""
    for candidate in alternates(page, reading.fetched.url)[:3]:
        found = await read_feed(fetcher, candidate)
        if found.feed is not None:
            return candidate, found
    return target, reading
