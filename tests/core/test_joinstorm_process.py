"""The join storm with Steward as its own process: every newcomer welcomed once, its CPU counted.

The short form of ``python -m bench.onboarding_joinstorm --steward process``: a real
``python -m bot run`` (onboarding on) serves the fake in this test's process, a manager sets the
welcome channel through the fake, and a dozen people join at once. Each is welcomed exactly once
in the welcome channel and once by DM, as the fake holds them, and the CPU Steward's own process
spent is read from it (the figure the benchmark prints per join). Its speed is the benchmark's
business, not this test's.
"""

from __future__ import annotations

import pytest

from bench.onboarding_joinstorm import Storm, print_storms, storm
from tests.conftest import shared_dir

pytestmark = pytest.mark.slow  # real processes: started first


@pytest.mark.parametrize(
    ("platform", "database_url"),
    [("discord", "sqlite"), ("slack", "postgres")],
    indirect=["database_url"],
)
async def test_a_storm_served_by_a_steward_process_welcomes_everyone_once(
    platform: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared_dir()  # the fakes check every request against the specs there
    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "50")  # as the benchmark runs
    database = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    done = await storm(
        platform,
        12,
        patience=30,
        slack_429=1,
        database=database,
        mode="process",
        url=database_url,
    )
    assert isinstance(done, Storm)
    print_storms([done])
    table = capsys.readouterr().out
    assert done.mode == "process", table
    assert done.exactly_once == 12, table
    assert (done.lost, done.duplicates) == (0, 0), table
    assert done.steward_cpu is not None and done.steward_cpu > 0, table
