"""Route filters: what a manager types is checked with a friendly explanation, and an item passes
exactly when the expression says so, with the reason in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.announcements._filters import (
    FIELDS,
    AllOf,
    AnyOf,
    Filter,
    FilterError,
    Not,
    check_test,
    explain,
    parse,
    show,
)

ITEM = {
    "title": "Steward 2.0 launch",
    "summary": "We ship threads.",
    "author": "Ada",
    "categories": ("Release", "news"),
    "link": "https://e.org/launch",
    "source": "Brand blog",
}


@pytest.mark.parametrize(
    ("text", "passes", "why"),
    [
        ("title contains 'LAUNCH'", True, "title contains 'LAUNCH'"),
        ("title contains 'beta'", False, "title doesn't contain 'beta'"),
        ("categories equals 'release'", True, "categories equals 'release'"),
        ("not categories equals 'internal'", True, "categories doesn't equal 'internal'"),
        ("author equals 'ada' and not title contains 'launch'", False, "title contains 'launch'"),
        (
            "title contains 'beta' or summary contains 'alpha'",
            False,
            "title doesn't contain 'beta' and summary doesn't contain 'alpha'",
        ),
        (
            "(title contains 'x' or link matches 'e\\.org/l') and source equals 'Brand blog'",
            True,
            "link matches 'e\\.org/l' and source equals 'Brand blog'",
        ),
        ('summary matches "(?i)^we ship"', True, "summary matches '(?i)^we ship'"),
    ],
)
def test_an_item_passes_or_is_stopped_with_the_reason(text: str, passes: bool, why: str) -> None:
    found = parse(text)
    assert found is not None
    assert explain(found, ITEM) == (passes, why)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("titel contains 'x'", "`titel` is not a field I know"),
        ("title has 'x'", "After `title` I expected contains, equals, matches"),
        ("title contains launch", "Put the text to look for in quotes"),
        ("title contains 'x", "A quote is not closed"),
        ("(title contains 'x'", "A `(` is not closed"),
        ("title contains 'x' title contains 'y'", "join tests with `and` or `or`"),
        ("title matches '(a)\\1'", "I use RE2 (no look-arounds or back-references"),
        ("title matches '(?=a)'", "not a pattern I can run"),
        ("and", "I expected a field"),
        ("title contains 'x' and", "I expected a field (title, summary"),
        ("not " * 40 + "title contains 'x'", "nests too deeply"),
        ("title contains 'x' ; drop", "I don't understand `;"),
    ],
)
def test_a_mistake_is_explained_in_plain_words(text: str, says: str) -> None:
    with pytest.raises(FilterError) as info:
        parse(text)
    assert says in info.value.message


def test_an_empty_filter_lets_everything_through() -> None:
    assert parse("   ") is None


# A model of filters, written apart from the parser: random trees, printed, parsed back, judged.
VALUES = st.sampled_from(["launch", "news", "Ada", "e.org", "", "x'y", 'q"t'])
TESTS = st.builds(
    lambda name, op, value: check_test(name, op, re.escape(value) if op == "matches" else value),
    st.sampled_from(FIELDS),
    st.sampled_from(["contains", "equals", "matches"]),
    VALUES,
)
TREES: st.SearchStrategy[Filter] = st.recursive(
    TESTS,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda p: AllOf(tuple(p))),
        st.lists(inner, min_size=2, max_size=3).map(lambda p: AnyOf(tuple(p))),
    ),
    max_leaves=8,
)
ITEMS = st.fixed_dictionaries(
    {
        "title": st.sampled_from(["Launch day", "news", ""]),
        "summary": st.sampled_from(["Ada writes", "nothing", "x'y"]),
        "author": st.sampled_from(["Ada", "ada ", ""]),
        "categories": st.lists(st.sampled_from(["news", "Launch", 'q"t']), max_size=2).map(tuple),
        "link": st.sampled_from(["https://e.org/a", ""]),
        "source": st.sampled_from(["Brand", "e.org news"]),
    }
)


def _model(node: Filter, item: dict[str, Any]) -> bool:
    if isinstance(node, Not):
        return not _model(node.inner, item)
    if isinstance(node, AllOf):
        return all(_model(p, item) for p in node.parts)
    if isinstance(node, AnyOf):
        return any(_model(p, item) for p in node.parts)
    raw = item[node.name]
    values = [raw] if isinstance(raw, str) else list(raw)
    if node.op == "contains":
        return any(node.value.lower() in v.lower() for v in values)
    if node.op == "equals":
        return any(node.value.lower().strip() == v.lower().strip() for v in values)
    return any(re.search(node.value, v) for v in values)


@settings(max_examples=300, deadline=None)
@given(TREES, ITEMS)
def test_property_printed_filters_read_back_and_judge_as_the_model(
    node: Filter, item: dict[str, Any]
) -> None:
    again = parse(show(node))
    assert again == node
    assert explain(node, item)[0] is _model(node, item)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="titleconsaqu '\"()nrdmh.*\\", max_size=60))
def test_property_any_text_reads_or_is_explained(text: str) -> None:
    try:
        found = parse(text)
    except FilterError as exc:
        assert exc.message and "Traceback" not in exc.message
        return
    if found is not None:
        assert parse(show(found)) == found
