"""Which items are new: stable ids, a quiet first fetch, edits on chosen fields, a maximum age."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cogs.announcements._identity import FirstFetch, Policy, Skip, decide, item_key
from cogs.announcements._items import Item

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def item(n: int, *, age_days: float = 0, **kw: object) -> Item:
    """Item ``n``, published ``age_days`` before NOW."""
    base = Item(guid=f"g{n}", title=f"Title {n}", link=f"https://e.org/{n}")
    return replace(base, published=NOW - timedelta(days=age_days), **kw)  # type: ignore[arg-type]


def test_identity_is_guid_else_link_else_title_and_date() -> None:
    a = Item(guid="x", title="A", link="https://e.org/a")
    assert item_key(a) == item_key(replace(a, title="B", link="https://e.org/b"))
    b = Item(guid=None, title="A", link="https://e.org/a")
    assert item_key(b) == item_key(replace(b, title="Edited"))
    assert item_key(b) != item_key(replace(b, link="https://e.org/other"))
    c = Item(guid=None, title="A", link=None, published=NOW)
    assert item_key(c) != item_key(replace(c, published=NOW + timedelta(hours=1)))
    assert item_key(c) != item_key(replace(c, title="B"))
    assert item_key(Item(guid="https://e.org/a", title="", link=None)) != item_key(
        Item(guid=None, title="", link="https://e.org/a")
    )


def test_first_fetch_posts_nothing_or_only_the_newest() -> None:
    items = [item(3, age_days=0), item(2, age_days=1), item(1, age_days=2)]
    quiet = decide(items, {}, Policy(), NOW, first=True)
    assert quiet.post == () and len(quiet.skipped) == 3 and len(quiet.seen) == 3
    assert {reason for _, reason in quiet.skipped} == {Skip.FIRST_FETCH}
    newest = decide(items, {}, Policy(first_fetch=FirstFetch.NEWEST), NOW, first=True)
    assert [i.guid for i in newest.post] == ["g3"]


def test_only_unseen_items_are_new_and_they_come_oldest_first() -> None:
    seen = decide([item(1, age_days=3)], {}, Policy(), NOW, first=True).seen
    later = [item(4, age_days=0), item(3, age_days=1), item(2, age_days=2), item(1, age_days=3)]
    verdict = decide(later, seen, Policy(), NOW, first=False)
    assert [i.guid for i in verdict.post] == ["g2", "g3", "g4"]
    again = decide(later, verdict.seen, Policy(), NOW, first=False)
    assert again.post == () and again.changed == ()


def test_an_edit_is_re_announced_only_when_a_named_field_changes() -> None:
    policy = Policy(compare=("title",))
    seen = decide([item(1)], {}, policy, NOW, first=True).seen
    summary_edit = decide([item(1, summary="new text")], seen, policy, NOW, first=False)
    assert summary_edit.changed == () and summary_edit.post == ()
    retitled = decide([item(1, title="Better title")], seen, policy, NOW, first=False)
    assert [i.title for i in retitled.changed] == ["Better title"]
    assert (
        decide([item(1, title="Better title")], retitled.seen, policy, NOW, first=False).changed
        == ()
    )
    unwatched = decide([item(1, title="Better title")], seen, Policy(), NOW, first=False)
    assert unwatched.changed == ()


def test_items_older_than_max_age_are_skipped_with_the_reason() -> None:
    policy = Policy(max_age=timedelta(days=2))
    verdict = decide(
        [item(5, age_days=1), item(6, age_days=10)], {"x": "y"}, policy, NOW, first=False
    )
    assert [i.guid for i in verdict.post] == ["g5"]
    assert [(i.guid, why) for i, why in verdict.skipped] == [("g6", Skip.TOO_OLD)]
    assert "maximum age" in Skip.TOO_OLD.value


def test_a_feed_repeating_an_id_posts_it_once() -> None:
    verdict = decide([item(1), item(1, title="dup")], {"x": "y"}, Policy(), NOW, first=False)
    assert len(verdict.post) == 1


items_st = st.lists(
    st.builds(
        Item,
        guid=st.one_of(st.none(), st.text(max_size=8)),
        title=st.text(max_size=8),
        link=st.one_of(st.none(), st.sampled_from(["https://e.org/a", "https://e.org/b"])),
        published=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    ),
    max_size=30,
)


@given(first=items_st, second=items_st, newest=st.booleans())
def test_no_item_is_ever_posted_twice_and_none_is_missed(
    first: list[Item], second: list[Item], newest: bool
) -> None:
    policy = Policy(first_fetch=FirstFetch.NEWEST if newest else FirstFetch.NOTHING)
    start = decide(first, {}, policy, NOW, first=True)
    assert len(start.post) <= 1
    step = decide(second, start.seen, policy, NOW, first=False)
    posted = {item_key(i) for i in start.post} | {item_key(i) for i in step.post}
    assert len(start.post) + len(step.post) == len(posted)  # nothing twice
    new_keys = {item_key(i) for i in second} - {item_key(i) for i in first}
    assert {item_key(i) for i in step.post} == new_keys  # nothing missed, nothing false-new
    # A restart decides from the stored map alone: the same fetch again posts nothing.
    assert decide(second, step.seen, policy, NOW, first=False).post == ()
