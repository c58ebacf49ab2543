"""How a destination shows an item: templates with transforms, HTML made safe, nothing pings but
the role a manager named."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import CommunityRef, RoleRef, UserError
from cogs.announcements._items import Item
from cogs.announcements._plain import plain_text
from cogs.announcements._render import Look, check_template, post, thread_name

PARIS = ZoneInfo("Europe/Paris")
ITEM = Item(
    guid="a",
    title="Steward <b>2.0</b> is out",
    link="https://e.org/a",
    summary=(
        "<p>Threads &amp; stats.</p><script>alert('x')</script><p>Second\u200b para\u202egraph</p>"
    ),
    published=datetime(2026, 12, 6, 22, 30, tzinfo=UTC),
    author="Ada",
    image="https://e.org/a.png",
)
ROLE = RoleRef(CommunityRef("discord", "1"), "42")
PING = re.compile(r"@(everyone|here|channel)|<[@!]", re.IGNORECASE)


def test_an_item_is_an_embed_with_its_link_image_and_plain_summary() -> None:
    shown = post(ITEM, "Brand blog", PARIS, Look())
    assert (shown.title, shown.link, shown.image) == (
        "Steward 2.0 is out",
        "https://e.org/a",
        "https://e.org/a.png",
    )
    assert shown.text == "Threads & stats.\n\nSecond paragraph"
    assert shown.ping_roles == frozenset()


def test_a_template_uses_fields_and_transforms_in_the_communitys_time_zone() -> None:
    look = Look(
        "text", "{source|upper}: {title|truncate:10} ({date|date:%d %B %H:%M}) by {author|lower}"
    )
    assert post(ITEM, "Brand blog", PARIS, look).text == (
        "BRAND BLOG: Steward… (06 December 23:30) by ada"
    )
    assert post(ITEM, "B", PARIS, Look("text", "{date}")).text == "2026-12-06 23:30"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("{titel}", "`{titel}` is not a field you can use here"),
        ("{title|shout}", "`shout` is not a transform I know"),
        ("{title|truncate:big}", "truncate:N"),
        ("{title|truncate:²}", "truncate:N"),
        ("{date|date:%Q}", "codes from %A %B"),
        ("{title.__class__}", "is not a field"),
    ],
)
def test_a_template_mistake_is_explained(source: str, says: str) -> None:
    with pytest.raises(UserError) as info:
        check_template(source)
    assert says in info.value.message


def test_long_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    long = Item(guid="b", title="t", link=None, summary="<p>" + "word " * 400 + "</p>")
    text = post(long, "B", PARIS, Look()).text
    assert len(text) <= 600 and text.endswith("word…") and "wor…" not in text
    assert thread_name(Item(guid="c", title="x " * 80, link=None)).endswith("x…")


def test_the_named_role_is_the_only_ping() -> None:
    loud = Item(guid="d", title="@everyone <@&7> hi", link="https://e.org/d", summary="@here")
    shown = post(loud, "B", PARIS, Look("text", role=ROLE))
    assert shown.text.startswith("<@&42> ") and shown.ping_roles == frozenset({ROLE})
    assert not PING.search(shown.text.removeprefix("<@&42> "))


def test_html_becomes_text_without_markup_or_invisible_characters() -> None:
    assert (
        plain_text("<div>a<br/>b</div><style>x{}</style>&lt;@1&gt;\u2066c\u2069") == "a\nb\n<@1>c"
    )


PIECES = [*"ab <>@!&#;/\"'=", "@everyone", "<@&1>", "<!here>", "\u200b", "<b>", "</p>", "&lt;@"]
HOSTILE = st.lists(st.sampled_from([*PIECES, "\u202e", "\u2066"]), max_size=12).map("".join)


@settings(max_examples=200, deadline=None)
@given(HOSTILE, HOSTILE, HOSTILE, st.sampled_from(["embed", "text"]))
def test_property_nothing_an_item_says_pings(
    title: str, summary: str, author: str, style: str
) -> None:
    item = Item(guid="p", title=title, link="https://e.org/p", summary=summary, author=author)
    look = Look(style, "{title} {summary} {author} {source}", role=ROLE)
    shown = post(item, author, PARIS, look)
    text = shown.text.removeprefix("<@&42> ") if style == "text" else shown.text
    for part in (text, shown.title or ""):
        assert not PING.search(part), part
        assert not any(ch in part for ch in "\u202e\u2066")
    assert shown.ping_roles == frozenset({ROLE}) and not shown.ping_users
