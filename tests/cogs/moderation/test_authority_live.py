"""Who may act on whom, end to end: random role hierarchies built in the fake Discord with real
positions, the real discord.py, and the fake counting every ban, kick and timeout that reaches
it while enforcing Discord's own hierarchy (403, code 50013, when Steward's top role is not
above the target's). Refused cases never reach it; allowed ones reach it exactly once; none is
answered 403. Discord only: Slack ranks no roles and its apps cannot ban, kick or time out.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.builtin import Steward
from bot.core import Level
from cogs.moderation import Moderation
from sandbox.discord.payloads import member as member_payload
from sandbox.discord.permissions import Permission, top_role_position
from sandbox.discord.state import Guild, Role
from sandbox.scenario import DiscordCommunity, Person, open_community
from tests.conftest import shared_dir

MOD = int(Permission.MODERATE_MEMBERS | Permission.KICK_MEMBERS | Permission.BAN_MEMBERS)
ADMIN = MOD | int(Permission.MANAGE_GUILD)
ROLES = 4
ACTS = ("ban", "kick", "timeout")
PLATFORM_CALLS = {"ban_user_from_guild", "delete_guild_member", "update_guild_member"}
EXAMPLES = int(os.environ.get("STEWARD_AUTHORITY_EXAMPLES", "30"))
FIGURES: dict[str, int] = {"tried": 0, "allowed": 0, "refused": 0, "calls": 0, "403s": 0}
"""Counts across examples and databases, printed for the notes (-s shows them)."""


@dataclass
class World:
    community: DiscordCommunity
    roles: list[Role]
    dyno: Person
    steward: Person


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    shared_dir()
    async with open_community("discord", database_url, [Steward(), Moderation()]) as running:
        assert isinstance(running, DiscordCommunity)
        fake, guild = running.fake, running.guild
        roles = [fake.add_role(guild, f"R{n}") for n in range(ROLES)]
        dyno_user = fake.add_user("dyno", bot=True)
        await fake.member_joins(guild, dyno_user)
        dyno = Person("dyno", Level.MEMBER, dyno_user.id, dyno_user)
        steward = Person("steward", Level.MEMBER, fake.bot.id, fake.bot)
        await running.settle()
        yield World(running, roles, dyno, steward)
        violations = fake.violations
    assert not violations, "\n".join(str(v) for v in violations)


@dataclass(frozen=True)
class Situation:
    order: tuple[int, ...]  # positions bottom to top, ROLES standing for Steward's own role
    permissions: tuple[int, ...]
    actor_roles: frozenset[int]
    target_roles: frozenset[int]
    actor_is_owner: bool
    target: str  # bob | self | owner | steward | bot
    act: str


SITUATIONS = st.builds(
    Situation,
    order=st.permutations(range(ROLES + 1)).map(tuple),
    permissions=st.tuples(*[st.sampled_from([0, MOD, MOD, ADMIN])] * ROLES),
    actor_roles=st.frozensets(st.integers(0, ROLES - 1), min_size=1),
    target_roles=st.frozensets(st.integers(0, ROLES - 1), max_size=2),
    actor_is_owner=st.sampled_from([False, False, False, False, True]),
    target=st.sampled_from(["bob"] * 6 + ["self", "owner", "steward", "bot"]),
    act=st.sampled_from(ACTS),
)


def _level(guild: Guild, user_id: str) -> Level:
    """Steward's level as Discord's permissions give it, read from the fake's own state."""
    if user_id == guild.owner_id:
        return Level.OWNER
    perms = 0
    for role_id in guild.members[user_id].roles:
        perms |= guild.roles[role_id].permissions
    if perms & int(Permission.MANAGE_GUILD | Permission.ADMINISTRATOR):
        return Level.ADMIN
    return Level.MOD if perms & MOD else Level.MEMBER


def _expected(world: World, s: Situation, actor: Person, target: Person) -> bool:
    """The rules of #16 section 2, read from the fake's state, apart from Steward's code."""
    guild, bot = world.community.guild, world.community.fake.bot
    if target.id in (actor.id, guild.owner_id, bot.id, world.dyno.id):
        return False
    actor_level, target_level = _level(guild, actor.id), _level(guild, target.id)
    if actor_level < Level.MOD:
        return False
    actor_top, target_top = (top_role_position(guild, p.id) for p in (actor, target))
    outranks = actor_level is Level.OWNER or (actor_level > target_level and actor_top > target_top)
    if not outranks or top_role_position(guild, bot.id) <= target_top:
        return False
    return not (s.act == "timeout" and target_level >= Level.ADMIN)


async def _arrange(world: World, s: Situation, actor: Person) -> Person:
    community = world.community
    fake, guild = community.fake, community.guild
    bob = community.people["bob"]
    if bob.id in guild.bans:
        del guild.bans[bob.id]  # lifted quietly, as if long ago
    if bob.id not in guild.members:
        await fake.member_joins(guild, bob.account)
    member = guild.members[bob.id]
    if member.communication_disabled_until is not None:
        member.communication_disabled_until = None  # it ended
        fake.dispatch(
            "GUILD_MEMBER_UPDATE", {**member_payload(fake.world, member), "guild_id": guild.id}
        )
    everyone = [*world.roles, fake.bot_role(guild)]
    fake.arrange_roles(guild, [everyone[i] for i in s.order])
    for role, permissions in zip(world.roles, s.permissions, strict=True):
        fake.set_permissions(guild, role, permissions)
    if actor.id != guild.owner_id:
        fake.set_member_roles(guild, actor.account, [world.roles[i] for i in s.actor_roles])
    fake.set_member_roles(guild, bob.account, [world.roles[i] for i in s.target_roles])
    await community.settle()
    people = community.people
    return {
        "bob": bob,
        "self": actor,
        "owner": people["olivia"],
        "steward": world.steward,
        "bot": world.dyno,
    }[s.target]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(s=SITUATIONS)
# Steward's role at the bottom, below the member the moderator outranks: Discord would say 403.
@example(
    Situation((4, 0, 1, 2, 3), (0, 0, 0, MOD), frozenset({3}), frozenset({0}), False, "bob", "kick")
)
# Steward's role on top: allowed, one call.
@example(
    Situation((0, 1, 2, 3, 4), (0, 0, 0, MOD), frozenset({3}), frozenset({0}), False, "bob", "ban")
)
async def test_refused_never_reach_discord_and_allowed_reach_it_once_without_a_403(
    world: World, s: Situation
) -> None:
    community = world.community
    actor = community.people["olivia" if s.actor_is_owner else "alice"]
    target = await _arrange(world, s, actor)
    expected = _expected(world, s, actor, target)
    log = community.fake.rest.log
    before = len(log)
    options = {"duration": "1h"} if s.act == "timeout" else {}
    said = await community.slash(
        actor, f"moderation {s.act}", member=target, reason="property", **options
    )
    calls = [
        r
        for r in log[before:]
        if r.operation_id in PLATFORM_CALLS
        and (r.operation_id != "update_guild_member" or "communication_disabled_until" in r.body)
    ]
    FIGURES["tried"] += 1
    FIGURES["allowed" if expected else "refused"] += 1
    FIGURES["calls"] += len(calls)
    FIGURES["403s"] += sum(r.status == 403 for r in calls)
    assert said.ephemeral, said.text
    assert [r.status for r in calls if r.status == 403] == [], said.text
    assert len(calls) == (1 if expected else 0), (s, said.text)
    if not expected:
        assert "Case #" not in said.text, said.text  # told why, before anything was written


def test_print_the_figures() -> None:
    """Runs after the property (file order): the figures for the notes."""
    print(f"\nauthority property: {FIGURES}")


async def test_rules_and_the_ladder_never_ask_discord_for_what_it_would_refuse(
    world: World,
) -> None:
    community = world.community
    fake, guild = community.fake, community.guild
    olivia, ada, bob = (community.people[n] for n in ("olivia", "ada", "bob"))
    fake.set_member_roles(guild, bob.account, [world.roles[-1]])  # the top role, above Steward's
    await community.configure("moderation", modlog_channel=community.channel_mention("mods"))
    await community.slash(
        ada, "moderation automod add", kind="word", value="spam", action="timeout"
    )
    await community.slash(ada, "moderation automod dryrun", rule=1, state="off")
    before = len(fake.rest.log)
    await community.says(bob, "spam spam")
    log = [community.readable(m.text) for m in community.messages_in("mods")]
    assert "Automod did not time the member out: Steward's own role is not above @bob" in log[-1]
    for _ in range(3):
        said = await community.slash(olivia, "moderation warn", member=bob, reason="again")
    assert "The escalation ladder opened case #5: timeout." in community.readable(said.text)
    still = await community.slash(olivia, "moderation cases", status="open")
    assert "#5 timeout @bob by ladder:3" in community.readable(still.text)
    assert [r for r in fake.rest.log[before:] if r.operation_id == "update_guild_member"] == []
    staff = [community.readable(m.text) for m in community.messages_in("mods")]
    assert any("Case #5: Steward's own role is not above @bob" in t for t in staff)
