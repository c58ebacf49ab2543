"""Steward killed with SIGKILL three times while members join, post, react and run commands.

The short form of ``python -m bench.kill_matrix`` (see its docstring for what "acked" means on
each platform): a real ``python -m bot run`` process against the fake in this test's process,
killed at random moments and restarted on the same database, the workload running on
throughout; a last process finishes the work. What the fake holds is compared with the outbox
and the database: every row sent and held, nothing held that no row recorded, no newcomer
welcomed twice, ``PRAGMA integrity_check`` ok (SQLite), no row whose foreign key points nowhere.

Nothing acked is lost (acked ⊆ stored), on both platforms: Slack's ack goes out only once the
event's inbox row is committed (``bot.core.inbox``), and rows left by a killed process are
handled on the next start. On Discord the next process resumes the killed one's gateway session
from the last sequence it had stored (``bot.adapters.discord.resume``), and Discord replays what
followed. A newcomer recorded but not welcomed when the process was killed is welcomed by the
next start (onboarding's catch-up on PlatformReady): a welcome missing fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.kill_matrix import Tally, one, parser, render
from tests.conftest import shared_dir

pytestmark = pytest.mark.slow  # real processes, or long rehearsals: started first


@pytest.mark.parametrize(
    ("platform", "database_url"),
    [("discord", "sqlite"), ("slack", "postgres")],
    indirect=["database_url"],
)
async def test_kills_lose_no_delivery_double_nothing_and_damage_no_row(
    platform: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_dir()
    monkeypatch.setenv("STEWARD_PLATFORM_SPEED", "10")
    database = "sqlite" if database_url.startswith("sqlite") else "postgres"
    args = parser().parse_args(["--kills", "3", "--max-alive", "2", "--finish-within", "60"])
    tally = await one(args, platform, database, str(tmp_path), database_url)
    assert isinstance(tally, Tally)
    table = render([tally]) + "\n" + "\n".join(tally.problems[:10])
    assert tally.kills == 3, table
    assert tally.joins and tally.posts and tally.reactions and tally.commands, table
    # Delivered = outbox: what the platform holds is what the outbox recorded, each once.
    assert tally.undelivered == 0, table
    assert tally.unrecorded == 0, table
    assert tally.duplicates == 0, table
    assert tally.integrity == ("ok" if database == "sqlite" else "-"), table
    assert tally.orphans == 0, table
    assert tally.welcomes_missing == 0, table
    # Acked ⊆ stored: what the platform was told Steward has, Steward has.
    assert tally.acked_not_stored == 0, table
