"""The community's own settings: time zone, quiet hours and who counts as a moderator."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.builtin import Steward
from bot.core import Level, RoleRef
from bot.core.localtime import in_quiet_hours, next_allowed
from tests.core.garden import Garden
from tests.core.harness import Harness


@pytest.fixture
async def garden(database_url: str) -> Harness:
    async with Harness(database_url, [Steward(), Garden()]) as harness:
        yield harness  # type: ignore[misc]


async def test_time_zone_and_quiet_hours_are_set_like_any_setting(garden: Harness) -> None:
    ada = garden.member("ada", Level.ADMIN)
    [tz] = await garden.run(
        ada, "steward settings set", feature="steward", key="timezone", value="europe/paris"
    )
    assert tz.text == "steward `timezone` is now Europe/Paris."
    [bad] = await garden.run(
        ada, "steward settings set", feature="steward", key="timezone", value="Mars/Olympus"
    )
    assert bad.ephemeral
    assert bad.text == (
        "`Mars/Olympus` is not a time zone; use a name such as Europe/Paris or UTC."
    )
    [quiet] = await garden.run(
        ada, "steward settings set", feature="steward", key="quiet_start", value="22:00"
    )
    assert quiet.text == "steward `quiet_start` is now 22:00."
    [wrong] = await garden.run(
        ada, "steward settings set", feature="steward", key="quiet_end", value="25:00"
    )
    assert wrong.text.startswith("`quiet_end` expects a time of day such as `22:00`")
    [shown] = await garden.run(ada, "steward settings show", feature="steward")
    assert "timezone: Europe/Paris\n" in shown.text and "quiet_start: 22:00\n" in shown.text


async def test_steward_itself_cannot_be_switched_off(garden: Harness) -> None:
    ada = garden.member("ada", Level.ADMIN)
    [refused] = await garden.run(ada, "steward features", feature="steward", switch=False)
    assert refused.text.startswith("There is no feature called `steward`.")


async def test_moderator_role_makes_a_member_a_moderator(garden: Harness) -> None:
    ada = garden.member("ada", Level.ADMIN)
    mods = RoleRef(garden.community, "777")
    bob = dataclasses.replace(garden.member("bob"), roles=frozenset({mods}))
    target = garden.member("carl")
    [refused] = await garden.run(bob, "garden prune", member=target)
    assert "need to be a moderator" in refused.text
    await garden.run(
        ada, "steward settings set", feature="steward", key="moderator_role", value="<@&777>"
    )
    [allowed] = await garden.run(bob, "garden prune", member=target)
    assert allowed.text == "pruned carl"
    [still] = await garden.run(garden.member("eve"), "garden prune", member=target)
    assert "need to be a moderator" in still.text


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("utc_hour", "quiet", "expected_hour"),
    [
        (12, True, 12),  # 13:00 in Paris: not quiet
        (22, True, 7),  # 23:00 in Paris: wait until 08:00 Paris = 07:00 UTC next day
        (5, True, 7),  # 06:00 in Paris: wait until 08:00 Paris
        (22, False, 22),  # no quiet hours set
    ],
)
def test_quiet_hours_wrap_midnight_in_the_community_zone(
    utc_hour: int, quiet: bool, expected_hour: int
) -> None:
    start, end = (time(22), time(8)) if quiet else (None, None)
    at = datetime(2026, 3, 2, utc_hour, tzinfo=UTC)
    allowed = next_allowed(at, PARIS, start, end)
    assert allowed.astimezone(UTC).hour == expected_hour
    assert not in_quiet_hours(allowed, PARIS, start, end)
    assert allowed >= at
