"""Steward killed between storing a newcomer and queueing their welcome (issue 20 part 2): the
next start welcomes them, once, by itself."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from bot.builtin import Steward
from bot.core import Level, Message
from cogs.onboarding import Onboarding
from cogs.onboarding._arrivals import ROSTER_KEPT, Arrivals, Greeting
from cogs.onboarding._models import OnboardingConfig, OnboardingMember, OnboardingRosterEntry
from sandbox.scenario import Community, Person, start_steward, stop_steward
from tests.cogs.onboarding.test_welcome_after_trouble import _welcomes


async def test_a_newcomer_stored_but_not_welcomed_before_a_kill_is_welcomed_once_on_restart(
    community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))

    async def unsent(self: Arrivals, row: OnboardingMember, *, back: bool, count: Any) -> Greeting:
        # The newcomer's row commits with no welcome queued and welcomed_at unset: what a
        # Steward that stored a newcomer and queued their welcome in two transactions left
        # when killed between them (this version writes both at once, so an upgrade meets it).
        return Greeting(Message(text=""), posted=False, dm_key=None)

    async def killed(self: Arrivals, row: OnboardingMember, sent: Greeting) -> None:
        return None  # and the process is gone before anything runs after that commit

    monkeypatch.setattr(Arrivals, "greet", unsent)
    monkeypatch.setattr(Arrivals, "welcomed", killed)
    nina = await community.member_joins("nina")
    await community.settle()
    assert _welcomes(community, nina) == (0, 0)
    await stop_steward(community)
    monkeypatch.undo()

    for _ in range(2):  # the first start welcomes her; the next one adds nothing
        app = await start_steward(community, [Steward(), Onboarding()])
        try:
            await community.settle()
            await community.advance(seconds=5)
            assert _welcomes(community, nina) == (1, 1)
        finally:
            await app.stop()


@pytest.mark.parametrize("community", ["discord"], indirect=True)
async def test_members_who_joined_while_steward_was_down_are_welcomed_once_on_start(
    community: Community,
) -> None:
    """Discord does not send again the joins made while no Steward ran (a new process starts
    a new gateway session): on ready, the members who joined since Steward was last ready and
    were never stored are welcomed, once; members it knows, and the guild's older members,
    are not."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")  # while Steward runs: welcomed then
    assert _welcomes(community, nina) == (1, 1)
    await stop_steward(community)

    fake: Any = community.fake  # type: ignore[attr-defined]
    guild = community.guild  # type: ignore[attr-defined]
    user = fake.add_user("omar")
    await fake.member_joins(guild, user)  # nobody is connected: the join reaches no Steward
    omar = Person("omar", Level.MEMBER, user.id, user)
    community.people["omar"] = omar

    old = [p for name, p in community.people.items() if name not in ("nina", "omar")]
    for _ in range(2):  # the first start welcomes him; the next one adds nothing
        app = await start_steward(community, [Steward(), Onboarding()])
        try:
            await community.settle()
            await community.advance(seconds=5)
            assert _welcomes(community, omar) == (1, 1)
            assert _welcomes(community, nina) == (1, 1)
            assert [p.name for p in old if _welcomes(community, p) != (0, 0)] == []
        finally:
            await app.stop()


async def test_a_member_forgotten_soon_after_joining_is_not_welcomed_again_on_start(
    community: Community,
) -> None:
    """A newcomer asks Steward to forget them on their first day; Steward restarts that day.
    They are still in the guild (the workspace) and Steward has no record of them (it deleted
    it, as asked): the restart's catch-up must not take them for a join it missed."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    assert _welcomes(community, nina) == (1, 1)
    done = await community.slash(nina, "steward forget me")
    assert done.text.startswith("Done: every feature deletes"), done.text
    await stop_steward(community)
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, nina) == (1, 1)
        gone = await community.slash(nina, "onboarding me")
        assert "You haven't been through onboarding here." in gone.text
    finally:
        await app.stop()


async def _joins_unheard(community: Community, name: str) -> Person:
    """Someone joins the Slack workspace while no Steward runs, for longer than Slack keeps
    trying: the join's deliveries all fail and Slack gives up on it."""
    fake: Any = community.fake  # type: ignore[attr-defined]
    waited, fake.config.connect_timeout = fake.config.connect_timeout, 0.01  # nobody connects
    try:
        user = await fake.member_joins(name)
    finally:
        fake.config.connect_timeout = waited
    tried = next(
        d
        for d in reversed(fake.deliveries)
        if d.kind == "event" and d.payload["event"]["type"] == "team_join"
    )
    assert tried.payload["event"]["user"]["id"] == user.id
    assert not tried.ok and len(tried.attempts) == 4, "Slack should have given up on the join"
    person = Person(name, Level.MEMBER, user.id, user)
    community.people[name] = person
    return person


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_members_who_joined_while_steward_was_down_are_welcomed_once_on_slack(
    community: Community,
) -> None:
    """Slack stops redelivering a join after a few tries: on start, Steward lists the
    workspace and welcomes, once and oldest first, the members it never knew; a join Slack
    delivers after all (a late retry) adds nothing; a restart with nobody new welcomes
    nobody, and the workspace's older members are never welcomed."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")  # while Steward runs: welcomed then
    assert _welcomes(community, nina) == (1, 1)
    await stop_steward(community)
    omar = await _joins_unheard(community, "omar")
    pia = await _joins_unheard(community, "pia")

    fake: Any = community.fake  # type: ignore[attr-defined]
    old = [p for name, p in community.people.items() if name not in ("nina", "omar", "pia")]
    for start in range(2):  # the first start welcomes them; the next one adds nothing
        app = await start_steward(community, [Steward(), Onboarding()])
        try:
            await community.settle()
            await community.advance(seconds=5)
            if start == 0:  # Slack's late retry of omar's join, after the catch-up
                await fake.deliver_event(
                    omar.account.team_id,
                    {"type": "team_join", "user": omar.account.to_api(), "event_ts": "1.0"},
                )
                await community.settle()
            assert _welcomes(community, omar) == (1, 1)
            assert _welcomes(community, pia) == (1, 1)
            assert _welcomes(community, nina) == (1, 1)
            assert [p.name for p in old if _welcomes(community, p) != (0, 0)] == []
            order = [m.text for m in community.messages_in("welcome") if "Welcome to" in m.text]
            assert [i for i, t in enumerate(order) if omar.id in t] < [
                i for i, t in enumerate(order) if pia.id in t
            ]
        finally:
            await app.stop()


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_a_member_who_left_while_steward_was_down_is_welcomed_back_on_return(
    community: Community,
) -> None:
    """Deactivated while no Steward ran (the change never delivered): the next start's list
    no longer has them, so onboarding takes them as gone. Reactivated later, they get the
    welcome back, not silence (a second delivery of the same join)."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    assert _welcomes(community, nina) == (1, 1)
    await stop_steward(community)
    nina.account.deleted = True  # the user_change goes to no connection
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        await community.rejoins(nina)
        await community.advance(seconds=5)
        back = [m.text for m in community.dms_of(nina) if m.text.startswith("Welcome back")]
        assert back == ["Welcome back, @nina! Your progress is just as you left it."]
        assert _welcomes(community, nina) == (1, 2)
    finally:
        await app.stop()


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_the_first_list_of_a_slack_workspace_welcomes_nobody(community: Community) -> None:
    """Steward installed (or upgraded from a version that kept no list of members): the first
    start lists the workspace and welcomes none of it, even members who joined while Steward
    was down; a later join missed the same way is welcomed."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    assert [p.name for p in community.people.values() if _welcomes(community, p) != (0, 0)] == []
    await stop_steward(community)
    async with community.app.db.uow() as uow:  # as before Steward kept a list
        await uow.session.execute(delete(OnboardingRosterEntry))
        await uow.session.execute(update(OnboardingConfig).values(roster_at=None))
        await uow.commit()
    quinn = await _joins_unheard(community, "quinn")
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert [p.name for p in community.people.values() if _welcomes(community, p)[0]] == []
        assert _welcomes(community, quinn) == (0, 0)
    finally:
        await app.stop()
    rita = await _joins_unheard(community, "rita")
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, rita) == (1, 1)
        assert _welcomes(community, quinn) == (0, 0)
    finally:
        await app.stop()


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_a_join_slack_retries_as_steward_starts_is_welcomed_once(
    community: Community,
) -> None:
    """Slack's retry of a join reaches the new connection while Steward lists the workspace
    and catches up: both find the newcomer, one welcome goes out, and nothing fails."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    await stop_steward(community)
    fake: Any = community.fake  # type: ignore[attr-defined]
    sam = await _joins_unheard(community, "sam")
    retry = asyncio.create_task(
        fake.deliver_event(
            sam.account.team_id,
            {"type": "team_join", "user": sam.account.to_api(), "event_ts": "1.0"},
        )
    )  # waits for a connection, and goes out on the first
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        assert (await retry).ok
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, sam) == (1, 1)
        assert dict(app.dispatcher.gave_up) == {}
    finally:
        await app.stop()


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_a_slack_list_kept_more_than_a_week_ago_welcomes_nobody(
    community: Community,
) -> None:
    """Steward was stopped for longer than a week: who joined meanwhile joined too long ago
    for a welcome. The list is taken again, and the next stop's newcomers are welcomed."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    await stop_steward(community)
    tess = await _joins_unheard(community, "tess")
    community.clock.advance(ROSTER_KEPT + timedelta(hours=1))
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, tess) == (0, 0)
    finally:
        await app.stop()
    uma = await _joins_unheard(community, "uma")
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, uma) == (1, 1)
        assert _welcomes(community, tess) == (0, 0)
    finally:
        await app.stop()


@pytest.mark.parametrize("community", ["slack"], indirect=True)
async def test_a_slack_listing_that_fails_is_done_again_at_the_next_connection(
    community: Community,
) -> None:
    """Slack answers 503 to the listing on connecting: Steward carries on (the rest of the
    catch-up runs, nobody is welcomed twice or taken for gone) and the next connection's
    listing finds the member who joined while it was down."""
    await community.configure("onboarding", welcome_channel=community.channel_mention("welcome"))
    nina = await community.member_joins("nina")
    await stop_steward(community)
    vic = await _joins_unheard(community, "vic")
    fake: Any = community.fake  # type: ignore[attr-defined]
    fake.faults.server_error(times=1, status=503, method="users.list")
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert [c.status for c in fake.calls_to("users.list")][-1] == 503
        assert _welcomes(community, vic) == (0, 0)
    finally:
        await app.stop()
    app = await start_steward(community, [Steward(), Onboarding()])
    try:
        await community.settle()
        await community.advance(seconds=5)
        assert _welcomes(community, vic) == (1, 1)
        assert _welcomes(community, nina) == (1, 1)
        assert [p.name for p in community.people.values() if _welcomes(community, p)[0]] == [
            "nina",
            "vic",
        ]
    finally:
        await app.stop()
