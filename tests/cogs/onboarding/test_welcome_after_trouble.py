"""A newcomer's welcome that failed for longer than Steward's retries goes out by itself, once,
when the trouble is over: nobody has to run a command."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core import Member, MemberJoined
from cogs.onboarding._arrivals import Arrivals
from sandbox.scenario import Community, DiscordCommunity, Person
from tests.cogs.onboarding.world import grantable


def _welcomes(community: Community, person: Person) -> tuple[int, int]:
    """Public welcomes naming them, and welcome DMs they got."""
    public = sum(
        "Welcome to" in m.text and person.id in m.text for m in community.messages_in("welcome")
    )
    dms = sum("Welcome" in m.text for m in community.dms_of(person))
    return public, dms


def _platform_fails(community: Community) -> None:
    """The platform answers 503 to the step a join needs (Discord: giving the newcomer role;
    Slack: bringing them into the welcome channel), for as long as it takes."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        fake.fail_next(10_000, status=503)
    else:
        fake.faults.server_error(times=10_000, status=503, method="conversations.invite")


def _platform_recovers(community: Community) -> None:
    fake: Any = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        fake.fail_next(0)
    else:
        fake.faults.queue.clear()


async def test_a_welcome_kept_after_an_outage_goes_out_by_itself_once(
    community: Community,
) -> None:
    settings = {"welcome_channel": community.channel_mention("welcome")}
    if isinstance(community, DiscordCommunity):
        role, _ = grantable(community, "newcomers")
        assert role is not None
        settings["newcomer_role"] = role
    await community.configure("onboarding", **settings)
    community.app.dispatcher.retry_delays = (0.01,) * 6  # the listener's 7 tries, quickly
    ada = community.people["ada"]

    _platform_fails(community)
    nina = await community.member_joins("nina")
    await community.settle()
    assert _welcomes(community, nina) == (0, 0)
    await community.advance(seconds=30)  # still failing before the first automatic try
    _platform_recovers(community)
    kept = await community.slash(ada, "steward failures show")
    assert kept.text.startswith("1 event Steward could not handle here, even after retrying")
    assert "onboarding, MemberJoined" in kept.text and "(7 tries; " in kept.text
    assert "next try by itself 2026-01-05 09:01 UTC" in kept.text

    # Time passes; nobody acts.
    await community.advance(seconds=40)
    assert _welcomes(community, nina) == (1, 1)
    await community.advance(hours=9)
    assert _welcomes(community, nina) == (1, 1)
    shown = await community.slash(ada, "steward failures show")
    assert shown.text == "Nothing is waiting: every event here was handled."


async def test_a_join_welcomed_by_another_handler_meanwhile_is_not_welcomed_again(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A join looks at what onboarding knows of the member, does the platform steps, then
    writes. When another handler (the catch-up on ready, another process) welcomed the same
    member while this one talked to the platform, the join starts over on what is stored now:
    nobody is welcomed twice and the other handler's record stays."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    arrive, join = Arrivals.arrive, Arrivals.join
    joining: list[Member] = []

    async def remembered(self: Arrivals, member: Member) -> None:
        joining.append(member)
        await join(self, member)

    async def meanwhile(self: Arrivals, user_id: str, rules_at: datetime | None) -> None:
        await arrive(self, user_id, rules_at)
        monkeypatch.setattr(Arrivals, "arrive", arrive)  # the other handler goes straight on
        community.clock.advance(timedelta(seconds=30))  # its welcome has keys of its own
        event = MemberJoined(community=self.ctx.community, at=self.now, member=joining[0])
        assert (
            await community.app.dispatcher.replay("onboarding", "onboarding.joined", event) is None
        )

    monkeypatch.setattr(Arrivals, "join", remembered)
    monkeypatch.setattr(Arrivals, "arrive", meanwhile)
    nina = await community.member_joins("nina")
    await community.settle()
    assert _welcomes(community, nina) == (1, 1)
    mine = await community.slash(nina, "onboarding me")
    assert "You haven't been through onboarding here." not in mine.text
