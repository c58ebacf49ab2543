"""Slack text: nothing from outside can form a ping or a control sequence."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.text import escape, to_mrkdwn

# Anything Slack would turn into a notification.
PING = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>|<!(here|channel|everyone|subteam\^[^>]*)>")


def test_broadcasts_and_mentions_from_outside_are_inert() -> None:
    text = "<!channel> <!here> <!everyone> <@U123> <@U9|bob> <!subteam^S1|@mods> @here hi"
    out = to_mrkdwn(text, name_of={"U123": "alice"}.get)
    assert PING.findall(out) == []
    assert "@alice" in out and "@bob" in out and "@mods" in out
    assert "@\u200bhere" in out


def test_allowed_pings_survive() -> None:
    out = to_mrkdwn(
        "Welcome <@U1>! <@&S2> <!here>",
        ping_users={"U1"},
        ping_groups={"S2"},
        ping_everyone=True,
    )
    assert out == "Welcome <@U1>! <!subteam^S2> <!here>"


def test_markup_becomes_mrkdwn_and_control_characters_are_escaped() -> None:
    out = to_mrkdwn("**Rules** & [the guide](https://example.org/g) <b> <#C1|general>")
    assert out == "*Rules* &amp; <https://example.org/g|the guide> &lt;b&gt; <#C1>"


def test_link_labels_cannot_smuggle_a_ping() -> None:
    out = to_mrkdwn("[<!channel>](https://example.org)")
    assert PING.findall(out) == []


FRAGMENTS = st.sampled_from(
    [
        "<",
        ">",
        "!",
        "@",
        "here",
        "channel",
        "everyone",
        "subteam^",
        "S1",
        "U1",
        "|",
        "&",
        "#",
        "[x](https://e.org)",
        "**",
        " ",
        "<@",
        "<!",
        "&lt;",
        "&gt;",
        "&amp;",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(FRAGMENTS, max_size=30))
def test_property_generated_text_never_pings(parts: list[str]) -> None:
    out = to_mrkdwn("".join(parts))
    assert PING.findall(out) == []
    # every remaining '<' opens a link or a channel reference the renderer wrote itself
    for match in re.finditer(r"<([^>]*)>", out):
        assert match.group(1).startswith(("http", "#")), out


@given(st.text(max_size=200))
def test_property_escape_leaves_no_control_character(text: str) -> None:
    assert "<" not in escape(text) and ">" not in escape(text)
