"""Parsing one-line slash commands against the command specs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.adapters.slack.commands import match, parse_args, tokenize, usage
from bot.builtin import Steward
from bot.core import ChannelRef, CommunityRef, Level, UserRef
from bot.core.errors import UserError
from bot.core.registry import Registry
from cogs.onboarding import Onboarding
from tests.adapters.desk import Desk
from tests.core.garden import Garden

TEAM = CommunityRef("slack", "T1")
REGISTRY = Registry([Steward(), Garden(), Desk(), Onboarding()])


def parse(feature: str, text: str) -> tuple[str, dict[str, object]]:
    tokens = tokenize(text)
    found = match(REGISTRY.commands(feature), tokens)
    assert found is not None
    spec, used = found
    return spec.name, parse_args(spec, text, tokens[used:], TEAM)


def test_two_word_commands_and_the_rest_of_the_line() -> None:
    assert parse("steward", "settings set garden greeting Hello there,  friend") == (
        "settings set",
        {"feature": "garden", "key": "greeting", "value": "Hello there,  friend"},
    )


def test_mentions_channels_durations_and_booleans() -> None:
    assert parse("garden", "water 2h30m yes") == (
        "water",
        {"after": timedelta(hours=2, minutes=30), "fail": True},
    )
    assert parse("desk", "whois <@U42|alice>") == ("whois", {"member": UserRef(TEAM, "U42")})
    assert parse("steward", "settings set garden channel <#C9|general>")[1]["value"] == (
        "<#C9|general>"
    )
    assert ChannelRef(TEAM, "C9") != ChannelRef(TEAM, "C9", "1.0")


def test_quoted_values_stay_whole() -> None:
    assert parse("steward", 'settings show "garden" greeting')[1] == {
        "feature": "garden",
        "key": "greeting",
    }


def test_the_word_payload_is_just_a_word() -> None:
    assert parse("desk", "echo show me the payload")[1] == {"text": "show me the payload"}


def test_named_arguments_skip_optional_parameters() -> None:
    assert parse("onboarding", "interest add python opens=<#C7|python>") == (
        "interest add",
        {"name": "python", "opens": "<#C7|python>"},
    )
    assert parse("onboarding", 'interest add opens="<!subteam^S1> <#C7|python>" Python 🐍')[1] == {
        "name": "Python",
        "emoji": "🐍",
        "opens": "<!subteam^S1> <#C7|python>",
    }
    assert parse("garden", "water fail=yes after=2h")[1] == {
        "after": timedelta(hours=2),
        "fail": True,
    }


def test_the_rest_of_the_line_stops_at_a_named_argument() -> None:
    assert parse("steward", "settings set key=greeting garden Hello there, friend")[1] == {
        "feature": "garden",
        "key": "greeting",
        "value": "Hello there, friend",
    }
    assert parse("steward", "settings set garden value=“Hi &amp; bye” key=greeting")[1] == {
        "feature": "garden",
        "key": "greeting",
        "value": "Hi & bye",
    }


def test_a_word_with_an_unknown_name_is_plain_text() -> None:
    assert parse("desk", "echo a=b and more")[1] == {"text": "a=b and more"}
    assert parse("desk", 'echo "text=quoted"')[1] == {"text": "text=quoted"}


@pytest.mark.parametrize(
    ("feature", "text", "message"),
    [
        ("garden", "water after=1h after=2h", "`after` is given twice."),
        ("garden", "water after=", "`after=` needs a value."),
        ("garden", "water after=soon", "is not a duration"),
        ("garden", "water fail=yes", "Missing after."),
        ("steward", "settings set garden greeting Hi key=x more", "I didn't expect `more` there."),
        ("steward", "settings set garden greeting Hi value=x", "I didn't expect `Hi` there."),
        ("garden", "water soon", "is not a duration"),
        ("garden", "water", "Missing after."),
        ("desk", "whois alice", "is not a member"),
        ("steward", "features garden maybe", "is not a yes/no value"),
        ("garden", "water 1h yes extra", "I didn't expect `extra` there."),
    ],
)
def test_mistakes_explain_themselves_with_usage(feature: str, text: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        parse(feature, text)
    assert message in info.value.message
    assert "Usage: `/" in info.value.message


def test_usage_lists_only_what_the_level_allows() -> None:
    member = usage(REGISTRY.commands("steward"), Level.MEMBER)
    admin = usage(REGISTRY.commands("steward"), Level.ADMIN)
    assert member == (
        "`/steward forget me`: Delete what Steward stores about you here, in every feature.\n"
        "`/steward help [feature]`: What you can do with Steward here."
    )
    assert "`/steward settings set <feature> <key> <value>`: Change one setting" in admin


def test_attached_files_are_not_part_of_a_line_of_text() -> None:
    from cogs.announcements import Announcements

    specs = Registry([Announcements()]).commands("announcements")
    tokens = tokenize("import https://a.example/f.opml <#C9|news>")
    found = match(specs, tokens)
    assert found is not None
    spec, used = found
    args = parse_args(spec, "import https://a.example/f.opml <#C9|news>", tokens[used:], TEAM)
    assert args == {"opml": "https://a.example/f.opml", "channel": ChannelRef(TEAM, "C9")}
    assert spec.usage == "/announcements import [opml] [channel] [file]"  # Discord's form
    assert "`/announcements import [opml] [channel]`" in usage(specs, Level.ADMIN)
    assert "file" not in parse_args(spec, "file=x.opml", tokenize("file=x.opml"), TEAM)
