"""Distinct actives of any window, kept as gaps: each active day with the member's previous one.

A member is among the actives of ``first .. last`` exactly when one of their active days in it
follows an active day before ``first`` (or none): so the window's distinct actives are the
members of its days whose previous active day, ``since``, is before ``first``
(``engagement_member_gaps``, one row per community, day and ``since``). ``since`` is floored at
``day - GAP_WINDOW``: a previous day longer ago is before the first day of any window of up to
``GAP_WINDOW`` days that holds ``day``, so those windows stay exact.

The writer adds, per new active (or posting) day: the day with its previous day, and the next
stored day now counting from the new day instead (a late event between two stored days). The
stored days come from each member's last active day when the new days are all after it (the
usual case: one read per batch), else from their day bits (``engagement_member_blocks``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from cogs.engagement._models import BLOCK_DAYS, GAP_WINDOW

Gaps = dict[tuple[str, int, int], list[int]]
"""(community, day, since) -> [active members, posting members] added."""

BACKFILL = f"""
INSERT INTO engagement_member_gaps (community_id, day, since, active, posted)
SELECT community_id, day, since, sum(a), sum(p) FROM (
    SELECT community_id, day, CASE WHEN prev IS NULL OR prev < day - {GAP_WINDOW}
        THEN day - {GAP_WINDOW} ELSE prev END AS since, 1 AS a, 0 AS p
    FROM (SELECT community_id, day, lag(day) OVER (PARTITION BY community_id, user_id
        ORDER BY day) AS prev FROM engagement_member_days) AS x
    UNION ALL
    SELECT community_id, day, CASE WHEN prev IS NULL OR prev < day - {GAP_WINDOW}
        THEN day - {GAP_WINDOW} ELSE prev END AS since, 0 AS a, 1 AS p
    FROM (SELECT community_id, day, lag(day) OVER (PARTITION BY community_id, user_id
        ORDER BY day) AS prev FROM engagement_member_days WHERE messages > 0) AS y
) AS g GROUP BY community_id, day, since
"""
"""The gaps of every stored member day, in one grouped pass (the bench's build; migration 0019
holds its own copy)."""


def since(day: int, prev: int | None) -> int:
    """What ``engagement_member_gaps.since`` holds for an active ``day`` after ``prev``."""
    floor = day - GAP_WINDOW
    return floor if prev is None or prev < floor else prev


def gaps_of(days: Iterable[int]) -> list[tuple[int, int]]:
    """(day, since) of every day of one member's whole set of active (or posting) days."""
    ordered = sorted(set(days))
    return [(d, since(d, ordered[i - 1] if i else None)) for i, d in enumerate(ordered)]


def add_days(gaps: Gaps, community: str, known: list[int], new: Iterable[int], col: int) -> None:
    """Add to ``gaps`` (column ``col``: 0 active, 1 posted) what one member's ``new`` days
    change, ``known`` being their stored days within ``GAP_WINDOW`` of the new ones (sorted;
    updated in place)."""

    def bump(day: int, start: int, n: int) -> None:
        gaps.setdefault((community, day, start), [0, 0])[col] += n

    for d in sorted(set(new)):
        i = bisect_left(known, d)
        if i < len(known) and known[i] == d:
            continue  # stored already
        prev = known[i - 1] if i else None
        bump(d, since(d, prev), 1)
        if i < len(known):
            after = known[i]
            before, now = since(after, prev), since(after, d)
            if before != now:
                bump(after, before, -1)
                bump(after, now, 1)
        insort(known, d)


def bits_days(rows: Iterable[tuple[int, int]]) -> list[int]:
    """The days of (block, bits) rows, sorted."""
    return sorted(days_of_blocks(rows, BLOCK_DAYS))


def days_of_blocks(rows: Iterable[tuple[int, int]], block_days: int) -> Iterator[int]:
    """The days of (block, bits) rows (bit k of block b is day ``b * block_days + k``), in
    row order."""
    for block, bits in rows:
        base = block * block_days
        while bits:
            low = bits & -bits
            yield base + low.bit_length() - 1
            bits ^= low


def _news(
    members: dict[tuple[str, int, str], dict[str, float]],
) -> tuple[dict[tuple[str, str], set[int]], dict[tuple[str, str], set[int]]]:
    active: dict[tuple[str, str], set[int]] = defaultdict(set)
    posted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for (c, d, u), counts in members.items():
        active[(c, u)].add(d)
        if counts["messages"] > 0:
            posted[(c, u)].add(d)
    return active, posted


def columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column (``width`` empty lists when there are none)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


async def _fetch(driver: Any, pg: bool, sql: str, params: tuple[Any, ...]) -> list[Any]:
    if pg:
        return list(await driver.fetch(sql, *params))
    async with driver.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _lasts(
    driver: Any, pg: bool, members: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """Each member's stored last active and last posting days (before this batch)."""
    found: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    if pg:
        rows = await driver.fetch(
            "SELECT u.c, u.m, m.last_day, m.last_posted_day FROM unnest($1::varchar[], "
            "$2::varchar[]) AS u(c, m) CROSS JOIN LATERAL (SELECT last_day, last_posted_day "
            "FROM engagement_members WHERE community_id = u.c AND user_id = u.m OFFSET 0) AS m",
            *columns(members, 2),
        )
        return {(c, u): (a, p) for c, u, a, p in rows}
    by_community: dict[str, list[str]] = defaultdict(list)
    for c, u in members:
        by_community[c].append(u)
    for c, users in by_community.items():
        for i in range(0, len(users), 500):
            chunk = users[i : i + 500]
            sql = (
                "SELECT user_id, last_day, last_posted_day FROM engagement_members "
                f"WHERE community_id = ? AND user_id IN ({', '.join('?' * len(chunk))})"
            )
            for u, a, p in await _fetch(driver, pg, sql, (c, *chunk)):
                found[(c, u)] = (a, p)
    return found


async def _blocks(
    driver: Any, pg: bool, wanted: dict[tuple[str, str], tuple[int, int]]
) -> dict[tuple[str, str], list[tuple[int, int, int]]]:
    """(block, active bits, posted bits) of each member's blocks spanning their (lo, hi) days."""
    keys = [
        (c, k, u)
        for (c, u), (lo, hi) in wanted.items()
        for k in range(lo // BLOCK_DAYS, hi // BLOCK_DAYS + 1)
    ]
    found: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    if pg:
        # One primary-key probe per block (``OFFSET 0``: never a scan).
        for c, u, k, a, p in await driver.fetch(
            "SELECT u.c, u.m, u.k, b.active, b.posted FROM unnest($1::varchar[], $2::int[], "
            "$3::varchar[]) AS u(c, k, m) CROSS JOIN LATERAL (SELECT active, posted "
            "FROM engagement_member_blocks WHERE community_id = u.c AND block = u.k "
            "AND user_id = u.m OFFSET 0) AS b",
            *columns(keys, 3),
        ):
            found[(c, u)].append((int(k), int(a), int(p)))
        return found
    for c, k, u in keys:
        for a, p in await _fetch(
            driver,
            pg,
            "SELECT active, posted FROM engagement_member_blocks "
            "WHERE community_id = ? AND block = ? AND user_id = ?",
            (c, k, u),
        ):
            found[(c, u)].append((k, int(a), int(p)))
    return found


async def gap_rows(
    driver: Any, pg: bool, members: dict[tuple[str, int, str], dict[str, float]]
) -> list[tuple[Any, ...]]:
    """(community, day, since, active, posted) increments for these member-day deltas, read
    against the stored days before they are written (in the batch's transaction)."""
    if not members:
        return []
    active, posted = _news(members)
    lasts = await _lasts(driver, pg, list(active))
    slow: dict[tuple[str, str], tuple[int, int]] = {}
    for member, days in active.items():
        last, last_posted = lasts.get(member, (None, None))
        late = last is not None and min(days) <= last
        mine = posted.get(member)
        if late or (mine and last_posted is not None and min(mine) <= last_posted):
            slow[member] = (min(days) - GAP_WINDOW, max(days) + GAP_WINDOW)
    stored = await _blocks(driver, pg, slow) if slow else {}
    gaps: Gaps = {}
    for (c, u), days in active.items():
        last, last_posted = lasts.get((c, u), (None, None))
        if (c, u) in slow:
            rows = stored.get((c, u), [])
            known = bits_days((k, a) for k, a, _ in rows)
            known_posted = bits_days((k, p) for k, _, p in rows)
        else:
            known = [] if last is None else [last]
            known_posted = [] if last_posted is None else [last_posted]
        add_days(gaps, c, known, days, 0)
        if (c, u) in posted:
            add_days(gaps, c, known_posted, posted[(c, u)], 1)
    return [(c, d, s, a, p) for (c, d, s), (a, p) in gaps.items() if a or p]
