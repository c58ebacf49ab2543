"""Manager-written templates: a closed language, no escapes, no pings, capped output."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UserError
from bot.core.templates import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    neutralize_pings,
    parse_template,
    render,
)

WELCOME = frozenset({"user", "user_name", "server", "member_count"})
PING = re.compile(r"@(everyone|here|channel)|<[@!]", re.IGNORECASE)

# The escapes from reference/security-study.md section 4 and the Jinja2 CVEs it cites.
ESCAPES = [
    "Welcome {user.__init__.__globals__[TOKEN]}",
    "{user.__class__.__mro__[1].__subclasses__()}",
    "{user!r}",
    "{user:>10000000}",
    "{user[0]}",
    "{{ 'x' * 10000000 }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ lipsum(5000) }}",
    "{% for i in range(200000) %}x{% endfor %}",
    "{{ user|attr('format') }}",
    "${user.__class__}",
    "{user|upper}",
    "{config}",
    "{__import__('os').environ}",
    "{ user }",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_corpus_is_refused_or_rendered_inert(source: str) -> None:
    try:
        template = parse_template(source, WELCOME)
    except UserError as exc:
        assert "field" in exc.message or "brace" in exc.message
        return
    # What parses is plain literal text: shown as typed, never evaluated.
    assert template.fields == frozenset()
    out = render(template, {"user_name": "alice", "server": "Garden", "member_count": "3"})
    assert out == source.replace("{{", "{").replace("}}", "}")
    assert len(out) <= MAX_OUTPUT_CHARS


def test_doubled_braces_render_literally_not_evaluated() -> None:
    template = parse_template("{{ 'x' * 10000000 }} for {user_name}", WELCOME)
    assert render(template, {"user_name": "alice"}) == "{ 'x' * 10000000 } for alice"


def test_unknown_field_error_names_the_allowed_ones() -> None:
    with pytest.raises(UserError) as info:
        parse_template("Hi {token}", WELCOME)
    assert info.value.message == (
        "`{token}` is not a field you can use here. "
        "Use one of: `{member_count}`, `{server}`, `{user}`, `{user_name}`."
    )


def test_no_secret_from_the_environment_or_module_globals_reaches_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STEWARD_DISCORD_TOKEN", "sekret-token-value")
    sources = [*ESCAPES, "{user_name} {server}", "{{STEWARD_DISCORD_TOKEN}}"]
    for source in sources:
        try:
            template = parse_template(source, WELCOME)
        except UserError as exc:
            assert "sekret" not in exc.message
            continue
        out = render(template, {"user_name": "a", "server": "b"})
        assert "sekret-token-value" not in out
        assert os.environ["STEWARD_DISCORD_TOKEN"] not in out


def test_template_length_and_output_are_capped() -> None:
    with pytest.raises(UserError, match="too long"):
        parse_template("x" * (MAX_TEMPLATE_CHARS + 1), WELCOME)
    template = parse_template("{user_name}" * 150, WELCOME)
    out = render(template, {"user_name": "y" * 10_000})
    assert len(out) == MAX_OUTPUT_CHARS and out.endswith("…")


def test_a_mention_at_the_cut_is_left_out_whole_never_cut_into_markup() -> None:
    # Found by bench.fuzz: cutting at the limit left "<@U0…" for members to read.
    template = parse_template("x" * 495 + "{user} hi", WELCOME)
    out = render(template, {}, mentions={"user": "<@U0MEMBER>"}, limit=500)
    assert out == "x" * 495 + "…"
    template = parse_template("x" * 480 + "{user} hi {user_name}", WELCOME)
    out = render(template, {"user_name": "y" * 50}, mentions={"user": "<@U0MEMBER>"}, limit=500)
    assert out == "x" * 480 + "<@U0MEMBER> hi " + "y" * 4 + "…"
    assert len(out) == 500


def test_a_text_with_the_bots_mention_is_cut_at_a_word_like_any_other() -> None:
    text = ", welcome to the garden where the tomatoes grow"
    plain = render(parse_template("Sam" + text, WELCOME), {}, limit=32)
    assert plain == "Sam, welcome to the garden…"
    template = parse_template("{user}" + text, WELCOME)
    out = render(template, {}, mentions={"user": "<@U0MEMBER>"}, limit=40)
    assert out == "<@U0MEMBER>, welcome to the garden…"


def test_the_bots_own_mention_survives_and_nothing_else_pings() -> None:
    template = parse_template("@everyone welcome {user} <@{user_name}> <!here>", WELCOME)
    out = render(template, {"user_name": "123"}, mentions={"user": "<@42>"})
    assert "<@42>" in out
    assert PING.findall(out.replace("<@42>", "[bot-mention]")) == []


def test_split_ping_across_template_and_value_is_neutralized() -> None:
    # The counterexample from the study: per-part neutralization let "<@" + "" + "here" through.
    template = parse_template("<@{user_name}here", WELCOME)
    assert PING.findall(render(template, {"user_name": ""})) == []


FRAGMENTS = st.sampled_from(
    ["<@", "<!", "@", "every", "one", "here", "channel", "&", "!", "123", ">", " ", "＠"]
)


@settings(max_examples=400, deadline=None)
@given(
    literal=st.lists(st.one_of(FRAGMENTS, st.sampled_from(["{user_name}", "{server}", "{user}"]))),
    values=st.lists(FRAGMENTS, max_size=6),
)
def test_property_rendered_text_never_pings_beyond_the_bots_mention(
    literal: list[str], values: list[str]
) -> None:
    source = "".join(literal)
    template = parse_template(source, WELCOME)
    out = render(
        template,
        {"user_name": "".join(values), "server": "".join(reversed(values))},
        mentions={"user": "<@42>"},
    )
    assert PING.findall(out.replace("<@42>", "[bot-mention]")) == []


@given(st.text(max_size=200))
def test_property_neutralize_is_idempotent_and_leaves_no_ping(text: str) -> None:
    once = neutralize_pings(text)
    assert neutralize_pings(once) == once
    assert PING.findall(once) == []
