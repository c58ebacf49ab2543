"""Who may act on whom: the table of refusals, and a property over random role hierarchies."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import Level
from cogs.moderation._authority import PLATFORM_ACTS, Act, Standing, refusal

MOD = Standing("mod", Level.MOD, top_role=5)
STEWARD = Standing("steward", Level.ADMIN, top_role=8, is_bot=True)
ALICE = Standing("alice", Level.MEMBER, top_role=1)
DAY = timedelta(days=1)
FIGURES = {"tried": 0, "allowed": 0, "refused": 0, "platform_calls": 0}
"""Counts across examples, for the notes (nothing asserts on them)."""


@pytest.mark.parametrize(
    ("act", "actor", "target", "duration", "why"),
    [
        (Act.BAN, MOD, ALICE, None, None),
        (Act.TIMEOUT, MOD, ALICE, DAY, None),
        (Act.WARN, Standing("m", Level.MEMBER, 9), ALICE, None, "Only mods and up"),
        (Act.KICK, MOD, MOD, None, "cannot have yourself kicked"),
        (Act.BAN, MOD, Standing("owner", Level.OWNER, 0, is_owner=True), None, "The owner"),
        (Act.BAN, MOD, Standing("steward", Level.MEMBER, 0, is_bot=True), None, "Steward cannot"),
        (Act.KICK, MOD, Standing("dyno", Level.MEMBER, 1, is_bot=True), None, "Bots cannot"),
        (Act.BAN, MOD, Standing("eve", Level.MEMBER, 5), None, "level with you or above"),
        (Act.WARN, MOD, Standing("mod2", Level.MOD, 2), None, "level with you or above"),
        (Act.BAN, MOD, Standing("vip", Level.MEMBER, 4), None, None),
        (Act.TIMEOUT, MOD, ALICE, timedelta(days=29), "28 days"),
        (Act.TIMEOUT, MOD, ALICE, None, "28 days"),
        (
            Act.KICK,
            Standing("top", Level.ADMIN, 12),
            Standing("x", Level.MEMBER, 9),
            None,
            "Steward's own role is not above",
        ),
        (Act.WARN, Standing("top", Level.ADMIN, 12), Standing("x", Level.MEMBER, 9), None, None),
        (
            Act.TIMEOUT,
            Standing("o", Level.OWNER, 0, is_owner=True),
            Standing("a", Level.ADMIN, 3),
            DAY,
            "time out an administrator",
        ),
    ],
)
def test_refusals_say_why_before_anything_reaches_the_platform(
    act: Act, actor: Standing, target: Standing, duration: timedelta | None, why: str | None
) -> None:
    reason = refusal(act, actor, target, STEWARD, duration=duration)
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason


def _standing(name: str, positions: list[int]) -> st.SearchStrategy[Standing]:
    """Someone holding a random subset of the community's roles."""
    return st.builds(
        lambda roles, level, bot, owner: Standing(
            name, Level.OWNER if owner else level, max(roles, default=0), bot, owner
        ),
        st.sets(st.sampled_from(positions)) if positions else st.just(set()),
        st.sampled_from([Level.MEMBER, Level.MOD, Level.ADMIN]),
        st.booleans(),
        st.booleans(),
    )


@st.composite
def _situations(draw: st.DrawFn) -> tuple[Act, Standing, Standing, Standing, timedelta]:
    positions = list(range(1, draw(st.integers(0, 12)) + 1))
    actor = draw(_standing("actor", positions))
    target = draw(st.one_of(_standing("target", positions), st.just(actor)))
    steward = draw(
        _standing("steward", positions).map(
            lambda s: Standing("steward", Level.ADMIN, s.top_role, is_bot=True)
        )
    )
    if draw(st.booleans()):
        target = steward
    act = draw(st.sampled_from([a for a in Act if a is not Act.UNBAN]))
    duration = timedelta(hours=draw(st.integers(0, 29 * 24)))
    return act, actor, target, steward, duration


def _discord_answers_403(act: Act, target: Standing, steward: Standing, hours: float) -> bool:
    """What Discord itself refuses (permissions.mdx, guild.mdx), written apart from the policy."""
    if act not in PLATFORM_ACTS:
        return False
    if target.is_owner or steward.top_role <= target.top_role:
        return True
    return act is Act.TIMEOUT and (target.level >= Level.ADMIN or hours > 28 * 24)


@settings(max_examples=150, deadline=None)
@given(situation=_situations())
def test_random_hierarchies_allow_exactly_what_the_rules_allow(
    situation: tuple[Act, Standing, Standing, Standing, timedelta],
) -> None:
    """Up to 12 roles, any duration; every small hierarchy is tried below."""
    _allows_exactly_what_the_rules_allow(*situation)


def test_every_small_hierarchy_allows_exactly_what_the_rules_allow() -> None:
    """Every act, by everyone on everyone, over four role positions (0 to 3: with Steward,
    the actor and the target, every order of their top roles and every tie) and durations
    either side of each limit: exhaustively, where the random test above samples."""
    people = [
        Standing(name, Level.OWNER if owner else level, top, bot, owner)
        for name in ("actor", "target")
        for level in (Level.MEMBER, Level.MOD, Level.ADMIN)
        for top in range(4)
        for bot in (False, True)
        for owner in (False, True)
        if not (owner and level is not Level.MEMBER)  # an owner is one Standing per role set
    ]
    actors = [p for p in people if p.user == "actor"]
    durations = [timedelta(0), timedelta(hours=1), timedelta(days=28), timedelta(days=28, hours=1)]
    acts = [a for a in Act if a is not Act.UNBAN]
    for top in range(4):
        steward = Standing("steward", Level.ADMIN, top, is_bot=True)
        for actor in actors:
            targets = [p for p in people if p.user == "target"] + [actor, steward]
            for target, act, duration in itertools.product(targets, acts, durations):
                _allows_exactly_what_the_rules_allow(act, actor, target, steward, duration)


def _allows_exactly_what_the_rules_allow(
    act: Act, actor: Standing, target: Standing, steward: Standing, duration: timedelta
) -> None:
    reason = refusal(act, actor, target, steward, duration=duration)
    FIGURES["tried"] += 1
    outranks = actor.is_owner or (actor.level > target.level and actor.top_role > target.top_role)
    expected = (
        actor.level >= Level.MOD
        and target.user not in (actor.user, steward.user)
        and not target.is_owner
        and not target.is_bot
        and outranks
        and not _discord_answers_403(act, target, steward, duration.total_seconds() / 3600)
        and (act is not Act.TIMEOUT or duration >= timedelta(minutes=1))
    )
    assert (reason is None) is expected, (act, actor, target, steward, duration, reason)
    if reason is None:
        FIGURES["allowed"] += 1
        FIGURES["platform_calls"] += act in PLATFORM_ACTS
    else:
        FIGURES["refused"] += 1
        assert reason.endswith(".") and "Traceback" not in reason
