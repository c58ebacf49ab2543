"""What a long-running process keeps per person stays bounded (bench/soak.py's memory goal)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.port import MEMBER_TTL, USERS_KEPT, SlackPort
from bot.core.expiring import Expiring


class Ticks:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def test_an_entry_is_kept_until_it_expires() -> None:
    clock = Ticks()
    kept: Expiring[str, int] = Expiring(10.0, 100, clock)
    kept.put("a", 1)
    clock.at = 9.9
    assert kept.get("a") == (True, 1)
    clock.at = 10.0
    assert kept.get("a") == (False, None)


def test_the_oldest_go_first_past_the_most() -> None:
    clock = Ticks()
    kept: Expiring[int, int] = Expiring(1000.0, 3, clock)
    for n in range(5):
        clock.at = n
        kept.put(n, n)
    assert len(kept) == 3
    assert [kept.get(n)[0] for n in range(5)] == [False, False, True, True, True]
    kept.put(2, 20)  # put again: now the newest
    kept.put(5, 5)
    assert [kept.get(n)[0] for n in range(6)] == [False, False, True, False, True, True]


def test_expired_entries_are_dropped_as_new_ones_come() -> None:
    clock = Ticks()
    kept: Expiring[int, int] = Expiring(10.0, 1000, clock)
    for n in range(100):
        clock.at = n
        kept.put(n, n)
    assert len(kept) == 10  # the last ten seconds' worth, not everyone ever seen


def test_slack_keeps_a_bounded_number_of_newcomers() -> None:
    """Each newcomer's team_join is kept for their welcome; a workspace that keeps growing must
    not keep them all (the soak's Slack process grew with every join)."""
    port = SlackPort(AsyncWebClient(token="xoxb-unused"))
    for n in range(USERS_KEPT + 500):
        port.remember({"id": f"U{n:08d}", "name": f"newcomer{n}", "profile": {"x": "y" * 100}})
    assert len(port._users) == USERS_KEPT
    assert port._users.get(f"U{USERS_KEPT + 499:08d}")[0]  # the latest is still known
    assert MEMBER_TTL > 0
