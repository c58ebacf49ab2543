"""The template language's exact rules and messages, one case each."""

from __future__ import annotations

import pytest

from bot.core import UserError
from bot.core.templates import MAX_TEMPLATE_CHARS, parse_template, render

FIELDS = frozenset({"member", "community"})
LISTING = "`{community}`, `{member}`"


def _refusal(source: str) -> str:
    with pytest.raises(UserError) as refused:
        parse_template(source, FIELDS)
    return refused.value.message


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("Hi {member", "{member"),
        ("Hi {Member}", "{Member}"),
        ("Hi {}", "{}"),
        ("Hi {member.name} there", "{member.name}"),
        ("Hi {" + "a" * 50 + "}", "{" + "a" * 39),
        ("Hi {" + "b" * 30, "{" + "b" * 19),
        ("{ member}", "{ member}"),
    ],
)
def test_what_is_not_a_field_is_quoted(source: str, shown: str) -> None:
    assert _refusal(source) == (
        f"`{shown}` is not a field. Write a field as `{{name}}`, using one of: {LISTING}; "
        "write `{{` for a literal brace."
    )


def test_other_mistakes_are_named() -> None:
    assert _refusal("{password}") == (
        f"`{{password}}` is not a field you can use here. Use one of: {LISTING}."
    )
    assert _refusal("a } b") == (
        "There is a `}` without a `{` before it; write `}}` for a literal brace."
    )
    assert _refusal("x" * (MAX_TEMPLATE_CHARS + 1)) == (
        "That template is too long; keep it under 2000 characters."
    )
    assert parse_template("x" * MAX_TEMPLATE_CHARS, FIELDS).source == "x" * MAX_TEMPLATE_CHARS


def test_parts_fields_and_source_round_trip() -> None:
    template = parse_template("{{x}} {member}, {{{community}}}!}}", FIELDS)
    assert template.parts == (
        (False, "{x} "),
        (True, "member"),
        (False, ", {"),
        (True, "community"),
        (False, "}!}"),
    )
    assert template.fields == FIELDS
    assert template.source == "{{x}} {member}, {{{community}}}!}}"
    assert parse_template("{member}{member}", FIELDS).parts == ((True, "member"),) * 2
    assert parse_template("", FIELDS).parts == ()


def test_rendering_fills_clips_and_strips_private_use_characters() -> None:
    template = parse_template("A\ue001{member} of {community}", FIELDS)
    assert render(template, {"member": "ann\ue002", "community": "C"}) == "Aann of C"
    assert render(template, {"community": "C"}) == "A of C"  # a missing value is empty
    long = render(parse_template("{member}", FIELDS), {"member": "m" * 500})
    assert long == "m" * 300
    exact = render(parse_template("{member}", FIELDS), {"member": "m" * 10}, limit=10)
    assert exact == "m" * 10
    clipped = render(parse_template("{member}", FIELDS), {"member": "m" * 11}, limit=10)
    assert clipped == "m" * 9 + "…"
    both = render(
        parse_template("{member} and {community}", FIELDS),
        {"community": "<@U2>"},
        mentions={"member": "<@U1>"},
    )
    assert both == "<@U1> and <\u200b@U2>"


def test_an_empty_field_is_quoted_up_to_its_own_brace() -> None:
    assert _refusal("{}x}").startswith("`{}` is not a field.")
