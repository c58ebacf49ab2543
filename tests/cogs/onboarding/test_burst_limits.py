"""A burst's shared welcome stays within what both platforms take: at most 50 newcomers and
1,900 characters a post (Discord refuses more than 2,000 characters and pings at most 100
users; Slack clips a section at 3,000), so no newcomer's mention is ever clipped away."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import CommunityRef
from bot.core.together import MAX_TOGETHER, MAX_TOGETHER_TEXT, TOGETHER, merge
from cogs.onboarding._texts import TOGETHER as WELCOME


def _queued(n: int, template: str | None, platform: str) -> list[dict[str, Any]]:
    first = 1579378246712164378 if platform == "discord" else 0
    return [
        {
            TOGETHER: [
                WELCOME,
                {
                    "template": template,
                    "community": "Rustaceans",
                    "member_count": 100 + i,
                    "rules": None,
                    "intro_channel": None,
                    "member": str(first + i) if platform == "discord" else f"U{i:010d}A",
                    "buddy": None,
                },
            ]
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("platform", ["discord", "slack"])
def test_a_long_burst_is_split_into_posts_that_fit(platform: str) -> None:
    community = CommunityRef(platform, "1")  # type: ignore[arg-type]
    merged = merge(community, WELCOME, _queued(80, None, platform))
    assert merged is not None
    message, count = merged
    assert count == MAX_TOGETHER
    assert message.text.startswith("Welcome to Rustaceans, <@") and message.text.count("<@") == 50
    assert len(message.ping_users) == 50 and len(message.text) <= MAX_TOGETHER_TEXT

    wordy = "Hello {member}! " + "Read everything in the pinned posts first, please. " * 33
    merged = merge(community, WELCOME, _queued(20, wordy, platform))
    assert merged is not None
    message, count = merged
    assert 2 <= count < 20 and len(message.text) <= MAX_TOGETHER_TEXT
    assert message.text.count("<@") == count == len(message.ping_users)

    longest = "Hello {member}! " + "x" * 1890
    assert merge(community, WELCOME, _queued(5, longest, platform)) is None  # each on its own
