"""Per-community settings through /steward settings, as an admin sees them."""

from __future__ import annotations

import pytest

from bot.builtin import Steward
from bot.core import Level
from tests.core.garden import Garden
from tests.core.harness import Harness


@pytest.fixture
async def garden(database_url: str) -> Harness:
    async with Harness(database_url, [Steward(), Garden()]) as harness:
        yield harness  # type: ignore[misc]


async def test_show_lists_defaults_with_their_descriptions(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    [shown] = await garden.run(admin, "steward settings show", feature="garden")
    assert shown.ephemeral
    assert "garden is on here." in shown.text
    assert "greeting: Welcome to the garden (default)\nWhat newcomers are told." in shown.text
    assert "cooldown: 10m (default)" in shown.text
    assert "channel: not set (default)" in shown.text
    assert "enabled" not in [name for name, _ in shown.message.fields]


@pytest.mark.parametrize(
    ("key", "typed", "shown"),
    [
        ("greeting", "Hello, friend", "Hello, friend"),
        ("limit", "7", "7"),
        ("cooldown", "1h30m", "1h30m"),
        ("channel", "<#C0123|general>", "<#C0123>"),
        ("channel", "<#555>", "<#555>"),
        ("mode", "loud", "loud"),
    ],
)
async def test_set_then_show(garden: Harness, key: str, typed: str, shown: str) -> None:
    admin = garden.member("ada", Level.ADMIN)
    [done] = await garden.run(admin, "steward settings set", feature="garden", key=key, value=typed)
    assert done.text == f"garden `{key}` is now {shown}."
    [after] = await garden.run(admin, "steward settings show", feature="garden", key=key)
    assert f"{key}: {shown}\n" in after.text
    assert "(default)" not in after.text


@pytest.mark.parametrize(
    ("key", "typed", "expected"),
    [
        ("limit", "lots", "`limit` expects a whole number."),
        ("cooldown", "soon", "`cooldown` expects a duration such as `30m`, `2h` or `3d`."),
        ("mode", "shouty", "`mode` expects one of `quiet`, `loud`; `shouty` isn't one."),
        ("channel", "general", "`channel` expects a channel, like #general (or `none` to clear)."),
    ],
)
async def test_bad_value_is_refused_helpfully_and_the_old_value_is_kept(
    garden: Harness, key: str, typed: str, expected: str
) -> None:
    admin = garden.member("ada", Level.ADMIN)
    [before] = await garden.run(admin, "steward settings show", feature="garden", key=key)
    [refused] = await garden.run(
        admin, "steward settings set", feature="garden", key=key, value=typed
    )
    assert refused.ephemeral
    assert refused.text.startswith(expected)
    [after] = await garden.run(admin, "steward settings show", feature="garden", key=key)
    assert after.text == before.text


async def test_reset_brings_back_the_default(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    await garden.run(admin, "steward settings set", feature="garden", key="limit", value="9")
    await garden.run(admin, "steward settings set", feature="garden", key="mode", value="loud")
    [reset] = await garden.run(admin, "steward settings reset", feature="garden", key="limit")
    assert reset.text == "garden `limit` is back to its default: 3."
    [shown] = await garden.run(admin, "steward settings show", feature="garden")
    assert "limit: 3 (default)" in shown.text
    assert "mode: loud\n" in shown.text


async def test_optional_setting_can_be_cleared(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    await garden.run(admin, "steward settings set", feature="garden", key="channel", value="<#9>")
    [cleared] = await garden.run(
        admin, "steward settings set", feature="garden", key="channel", value="none"
    )
    assert cleared.text == "garden `channel` is now not set."


async def test_unknown_feature_and_key_are_named(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    [nofeature] = await garden.run(admin, "steward settings show", feature="gardn")
    assert nofeature.text == "There is no feature called `gardn`. Features: `garden`."
    [nokey] = await garden.run(
        admin, "steward settings set", feature="garden", key="colour", value="red"
    )
    assert nokey.text.startswith("garden has no setting `colour`. Its settings: `greeting`")


async def test_features_lists_what_runs(garden: Harness) -> None:
    admin = garden.member("ada", Level.ADMIN)
    [listing] = await garden.run(admin, "steward features")
    assert "garden: on: A test feature." in listing.text
    [half] = await garden.run(admin, "steward features", feature="garden")
    assert "Say `on` or `off` too" in half.text


async def test_help_shows_only_what_the_member_may_run(garden: Harness) -> None:
    [member_help] = await garden.run(garden.member("alice"), "steward help")
    assert "/garden plant <seed>" in member_help.text
    assert "/garden prune" not in member_help.text
    assert "/steward settings set" not in member_help.text
    [admin_help] = await garden.run(garden.member("ada", Level.ADMIN), "steward help")
    assert "/garden prune <member>" in admin_help.text
    assert "/steward settings set <feature> <key> <value>" in admin_help.text


def test_a_read_that_began_before_a_write_committed_is_not_cached() -> None:
    """PostgreSQL: a unit of work reads the old row while another writes it; the write drops the
    cache entry (and again when it commits), so the old value read meanwhile is not kept."""
    from bot.core.settings import FeatureSettings, SettingsCache

    cache, key = SettingsCache(), ("discord:1", "moderation")
    old, new = FeatureSettings(), FeatureSettings()
    token = cache.token(key)  # a reader starts, and reads the old row
    cache.drop(key)  # meanwhile a writer writes and commits
    cache.put(key, old, token)  # the reader's old value arrives late
    assert cache.get(key, FeatureSettings) is None
    cache.put(key, new, cache.token(key))  # a read after the commit is kept
    assert cache.get(key, FeatureSettings) is new
