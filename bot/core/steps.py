"""The steps a call into a feature passes before its handler runs: one ordered list, one place.

Every event, command, button, job and timer goes through :data:`STEPS`, in this order, inside
the unit of work the caller opened (the first step):

1. **registration**: the community gets its row (once per process, :class:`KnownCommunities`);
2. **settings**: the feature's settings and the community's own, through the settings cache;
3. **level**: the actor holding the community's moderator role counts as a moderator;
4. **permission**: an actor below the level the command requires is told it is not theirs;
5. **usage**: only then, what was wrong with the arguments as typed;
6. **enabled**: a switched-off feature is told (to a person) or skipped (an event); what a
   switched-off feature stored is forgotten all the same (``forgetting``).

Steps 3 to 5 do nothing without an actor. A feature whose fast path skips the dispatcher
(engagement's ingest, one decision per community and batch rather than per event) asks
:meth:`Steps.admit` (or :meth:`Steps.peek`, from the cache alone) for the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.clock import Clock
from bot.core.communities import KnownCommunities
from bot.core.errors import PermissionDenied, UserError
from bot.core.ids import CommunityRef
from bot.core.members import Level, Member
from bot.core.settings import (
    COMMUNITY_FEATURE,
    CommunitySettings,
    FeatureSettings,
    SettingsStore,
    cache_of,
)
from bot.db.uow import UnitOfWork


class Gated(Protocol):
    """What the steps need of a feature (a :class:`~bot.core.feature.Feature` has it)."""

    @property
    def name(self) -> str:
        """The feature's name."""
        ...

    @property
    def Settings(self) -> type[FeatureSettings]:
        """The feature's settings model."""
        ...

    @property
    def always_on(self) -> bool:
        """Whether the feature ignores its ``enabled`` setting."""
        ...


class FeatureOff(Exception):
    """The feature is switched off in the community: an event is skipped, silently."""


@dataclass(kw_only=True)
class Admission:
    """One call as the steps saw it; what the handler's context is built from."""

    feature: Gated
    community: CommunityRef
    actor: Member | None = None
    requires: Level = Level.MEMBER
    what: str = ""
    problem: UserError | None = None
    """What was wrong with the arguments as typed (told at the usage step)."""
    forgetting: bool = False
    """A member is being forgotten: runs even where the feature is switched off."""
    settings: Any = None
    """The feature's settings (its own ``Settings`` model)."""
    shared: CommunitySettings | None = None
    """The community's own settings."""

    @property
    def enabled(self) -> bool:
        """Whether the feature runs here (always, for an always-on feature)."""
        return enabled(self.feature, self.settings)

    @property
    def moderator_roles(self) -> frozenset[str]:
        """The roles (Slack: user groups) whose holders count as moderators here."""
        return moderator_roles(self.shared)


def enabled(feature: Gated, settings: FeatureSettings) -> bool:
    """The enabled rule: an always-on feature runs whatever its ``enabled`` setting says."""
    return feature.always_on or settings.enabled


def moderator_roles(shared: CommunitySettings | None) -> frozenset[str]:
    """The level rule's roles: holders of the community's moderator role are moderators."""
    if shared is None or shared.moderator_role is None:
        return frozenset()
    return frozenset({shared.moderator_role.id})


class Steps:
    """Runs :data:`STEPS` for the dispatcher and for a feature's own fast path."""

    def __init__(self, communities: KnownCommunities, clock: Clock) -> None:
        self.communities = communities
        self.clock = clock

    async def admit(
        self,
        uow: UnitOfWork,
        feature: Gated,
        community: CommunityRef,
        *,
        actor: Member | None = None,
        requires: Level = Level.MEMBER,
        what: str = "",
        problem: UserError | None = None,
        forgetting: bool = False,
    ) -> Admission:
        """Run every step in order; raise what the first refusing step says (``FeatureOff``,
        ``PermissionDenied``, ``UserError``)."""
        call = Admission(
            feature=feature,
            community=community,
            actor=actor,
            requires=requires,
            what=what,
            problem=problem,
            forgetting=forgetting,
        )
        for _name, step in STEPS:
            await step(self, uow, call)
        return call

    async def read(self, uow: UnitOfWork, feature: Gated, community: CommunityRef) -> Admission:
        """The registration and settings steps only, for a caller that decides per item what
        the rest means (engagement asks ``enabled`` and ``moderator_roles`` of the answer)."""
        call = Admission(feature=feature, community=community)
        await _register(self, uow, call)
        await _settings(self, uow, call)
        return call

    def peek(
        self, engine: object, feature: Gated, community: CommunityRef
    ) -> tuple[Admission, bool] | None:
        """What :meth:`read` would answer, from the settings cache alone (no session), and
        whether it is fresh; None when the community is not registered yet or nothing is
        cached."""
        cache = cache_of(engine)
        if cache is None or community.key not in self.communities:
            return None
        mine = cache.peek((community.key, feature.name), feature.Settings)
        shared = cache.peek((community.key, COMMUNITY_FEATURE), CommunitySettings)
        if mine is None or shared is None:
            return None
        call = Admission(feature=feature, community=community, settings=mine[0], shared=shared[0])
        return call, mine[1] and shared[1]


Step = Callable[[Steps, UnitOfWork, Admission], Awaitable[None]]


async def _register(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    await steps.communities.ensure(uow, call.community, steps.clock.now())


async def _settings(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    store = SettingsStore.of(uow)
    call.settings = await store.get(call.community, call.feature.Settings, call.feature.name)
    call.shared = await store.get(call.community, CommunitySettings, COMMUNITY_FEATURE)


async def _level(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    actor = call.actor
    if actor is None or actor.level >= Level.MOD:
        return
    if any(role.id in call.moderator_roles for role in actor.roles):
        call.actor = dataclasses.replace(actor, level=Level.MOD)


async def _permission(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    if call.actor is not None and call.actor.level < call.requires:
        raise PermissionDenied(call.requires, call.what)


async def _usage(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    if call.actor is not None and call.problem is not None:
        raise call.problem


async def _enabled(steps: Steps, uow: UnitOfWork, call: Admission) -> None:
    if call.enabled or call.forgetting:
        return
    if call.actor is None:
        raise FeatureOff(call.feature.name)
    name = call.feature.name
    raise UserError(
        f"The {name} feature is switched off here. "
        f"An admin can turn it on with `/steward features {name} on`."
    )


STEPS: tuple[tuple[str, Step], ...] = (
    ("registration", _register),
    ("settings", _settings),
    ("level", _level),
    ("permission", _permission),
    ("usage", _usage),
    ("enabled", _enabled),
)
"""The steps in the order they run (the unit of work around them is the caller's)."""
