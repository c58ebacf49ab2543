"""Platform storms: every refusal a platform gives under load slows delivery, and loses nothing.

Discord: 429s of each scope (a route's bucket, the global limit, a busy resource's shared limit),
Cloudflare's answer to a banned address (no ``Via``, a plain-text body: discord.py raises at
once) and 5xx pages. Slack: 429 with ``Retry-After`` and 503. Through every wave, each post goes
out exactly once, in order, every wait the platform asked for is kept, and the invalid requests
Discord counts stay far under its ban threshold.
"""

from __future__ import annotations

import os
from typing import Any

from sandbox.discord import FakeDiscord
from sandbox.discord.limits import INVALID_LIMIT
from sandbox.scenario import Community, DiscordCommunity
from tests.core.courier import relayed

SPEED = float(os.environ.get("STEWARD_PLATFORM_SPEED", "1"))


def discord_waves(fake: FakeDiscord, channel_id: str) -> list[tuple[str, Any]]:
    return [
        ("bucket 429", lambda: fake.rate_limit_next(2, retry_after=0.2)),
        ("global 429", lambda: fake.rate_limit_next(2, retry_after=0.2, global_=True)),
        ("shared 429", lambda: fake.rate_limit_shared(channel_id, 2, retry_after=0.2)),
        ("Cloudflare ban", lambda: fake.ban_next(2)),
        ("502", lambda: fake.fail_next(2, status=502)),
        ("500 then 429", lambda: (fake.fail_next(1), fake.rate_limit_next(1, retry_after=0.2))),
    ]


def slack_waves(fake: Any) -> list[tuple[str, Any]]:
    post = "chat.postMessage"
    return [
        ("429 Retry-After 1", lambda: fake.faults.rate_limit(2, retry_after=1, method=post)),
        ("429 Retry-After 3", lambda: fake.faults.rate_limit(1, retry_after=3, method=post)),
        ("503", lambda: fake.faults.server_error(2, status=503, method=post)),
        ("500 then 429", lambda: fake.faults.server_error(1, method=post)),
    ]


async def test_every_kind_of_refusal_delays_posts_but_loses_and_repeats_none(
    community: Community,
) -> None:
    alice, fake = community.people["alice"], community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        general = community.guild.channel_named("general")
        waves = discord_waves(fake, general.id)
    else:
        waves = slack_waves(fake)
    expected: list[str] = []
    for n, (name, storm) in enumerate(waves):
        words = [f"{n}a", f"{n}b", f"{n}c"]
        storm()
        await community.says(alice, "relay " + " ".join(words))
        expected += words
        for _ in range(8):  # what was not let through is tried again on the outbox's schedule
            if relayed(community) == expected:
                break
            await community.advance(seconds=30)
        assert relayed(community) == expected, f"after the {name} wave"

    if isinstance(community, DiscordCommunity):
        records = fake.requests
        refused = [r for r in records if r.status == 429]
        scopes = {r.scope for r in refused}
        assert {"user", "global", "shared", "ban"} <= scopes, scopes
        for r in refused:
            if r.scope == "ban":
                continue  # no wait is given; the outbox backs off on its own schedule
            after = next(x for x in records[records.index(r) + 1 :] if x.path == r.path)
            waited = after.at - r.at
            assert waited >= float(r.response["retry_after"]) * 0.95, (r.scope, waited)
        invalid = sum(1 for r in records if r.status in (401, 403, 429) and r.scope != "shared")
        assert invalid < INVALID_LIMIT[0] / 100, invalid
    else:
        calls = [c for c in fake.calls if c.method == "chat.postMessage"]
        assert any(c.status == 503 for c in calls) and any(c.status == 429 for c in calls)
        for i, c in enumerate(calls):
            if c.status != 429:
                continue
            asked = int(c.retry_after or 0) / SPEED
            after = next(x for x in calls[i + 1 :] if x.args.get("channel") == c.args["channel"])
            assert after.at - c.at >= asked * 0.95, (asked, after.at - c.at)
