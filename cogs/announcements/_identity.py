"""Which items are new: stable ids, first-fetch quiet, re-announce on chosen changes, max age.

Pure: plain values in, a ``Verdict`` out. The seen map (item key -> fingerprint of the compared
fields) is what the store keeps per feed, so a restart decides exactly as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cogs.announcements._items import Item

# Fields a manager may name for re-announcing an edited item (MonitoRSS's passing comparisons).
COMPARABLE = ("title", "summary", "link", "author", "image", "updated", "enclosures", "tags")


class FirstFetch(StrEnum):
    """What a feed's very first fetch posts."""

    NOTHING = "nothing"
    NEWEST = "newest"


class Skip(StrEnum):
    """Why an item that looked new was not posted (the delivery log says it in these words)."""

    FIRST_FETCH = "already there when the feed was added"
    TOO_OLD = "older than the feed's maximum age"


def item_key(item: Item) -> str:
    """The item's stable identity: its guid or id, else its link, else its title and date."""
    if item.guid:
        basis = "g\x00" + item.guid
    elif item.link:
        basis = "l\x00" + item.link
    else:
        when = item.published or item.updated
        basis = "h\x00" + item.title + "\x00" + (when.isoformat() if when else "")
    return hashlib.sha1(basis.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def fingerprint(item: Item, fields: Iterable[str]) -> str:
    """A short hash of the named fields, so an edit to one of them can be noticed."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name in sorted(set(fields)):
        value = getattr(item, name, None) if name in COMPARABLE else None
        digest.update(
            name.encode() + b"\x00" + repr(value).encode("utf-8", "surrogatepass") + b"\x01"
        )
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Policy:
    """A feed's dedupe settings, as the manager chose them."""

    first_fetch: FirstFetch = FirstFetch.NOTHING
    compare: tuple[str, ...] = ()
    max_age: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to post (oldest first), what was skipped and why, and the seen map to store."""

    post: tuple[Item, ...]
    changed: tuple[Item, ...]
    skipped: tuple[tuple[Item, Skip], ...]
    seen: dict[str, str] = field(default_factory=dict)


def decide(
    items: Iterable[Item], seen: Mapping[str, str], policy: Policy, now: datetime, *, first: bool
) -> Verdict:
    """Sort a fetch's items into new, re-announced, skipped; ``first`` is the feed's first fetch."""
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item_key(item), item)  # a feed repeating an id posts it once
    remember = dict(seen)
    fresh: list[Item] = []
    changed: list[Item] = []
    for key, item in unique.items():
        mark = fingerprint(item, policy.compare)
        if key not in seen:
            fresh.append(item)
        elif policy.compare and seen[key] != mark:
            changed.append(item)
        remember[key] = mark
    skipped: list[tuple[Item, Skip]] = []
    if first:
        keep = _newest(fresh) if policy.first_fetch is FirstFetch.NEWEST else None
        skipped = [(item, Skip.FIRST_FETCH) for item in fresh if item is not keep]
        fresh = [keep] if keep is not None else []
        changed = []
    if policy.max_age is not None:
        cutoff = now - policy.max_age
        old = {id(i) for i in fresh if (d := i.published or i.updated) is not None and d < cutoff}
        skipped += [(item, Skip.TOO_OLD) for item in fresh if id(item) in old]
        fresh = [item for item in fresh if id(item) not in old]
    return Verdict(
        tuple(_oldest_first(fresh)), tuple(_oldest_first(changed)), tuple(skipped), remember
    )


def _newest(items: list[Item]) -> Item | None:
    if not items:
        return None
    dated = [i for i in items if i.published or i.updated]
    if not dated:
        return items[0]  # feeds list newest first
    return max(dated, key=lambda i: i.published or i.updated)  # type: ignore[arg-type,return-value]


def _oldest_first(items: list[Item]) -> list[Item]:
    # Feeds list newest first: reverse that, then order by date when every item has one.
    ordered = list(reversed(items))
    if all(i.published or i.updated for i in ordered):
        ordered.sort(key=lambda i: i.published or i.updated)  # type: ignore[arg-type,return-value]
    return ordered
