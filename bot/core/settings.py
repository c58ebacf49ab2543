"""Typed per-community settings: defaults live in the model, changes live in the database."""

from __future__ import annotations

import json
from datetime import datetime, time
from time import monotonic as time_monotonic
from typing import TypeVar
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ids import ChannelRef, CommunityRef, RoleRef
from bot.core.localtime import canonical_zone
from bot.db.models import CommunitySetting
from bot.db.uow import UnitOfWork


class FeatureSettings(BaseModel):
    """Base for a feature's settings; each field has a default and a docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Whether the feature runs in this community."""


S = TypeVar("S", bound=FeatureSettings)
T = TypeVar("T")


COMMUNITY_FEATURE = "steward"
"""The built-in feature whose settings are the community's own."""


class CommunitySettings(FeatureSettings):
    """Settings of the whole community, kept by the built-in ``steward`` feature."""

    timezone: str = Field("UTC", max_length=64)
    """The community's time zone, such as Europe/Paris; digests and quiet hours use it."""

    quiet_start: time | None = None
    """When quiet hours begin (local time, like 22:00); nudges wait until they end."""

    quiet_end: time | None = None
    """When quiet hours end (local time, like 08:00)."""

    moderator_role: RoleRef | None = None
    """Members with this role (Discord) or in this user group (Slack) count as moderators."""

    staff_channel: ChannelRef | None = None
    """Where Steward tells the staff what it can't fix itself (a missing permission, someone
    it can't reach); each problem is told once."""

    staff_role: RoleRef | None = None
    """Pinged with every staff alert: a Discord role or a Slack user group (none: nobody)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        found = canonical_zone(value)
        if found is None:
            raise ValueError("not a time zone; use a name such as Europe/Paris or UTC")
        return found

    def tz(self) -> ZoneInfo:
        """The community's time zone."""
        return ZoneInfo(self.timezone)


SETTINGS_CHANNEL = "steward_settings"
"""The PostgreSQL notification channel on which a settings write is announced (its payload:
``[community key, feature]``), so every process drops its cached copy when the write commits."""


class SettingsCache:
    """Validated settings per (community, feature), so a command doesn't wait on a read; and
    what a feature keeps of its own setup under a name of its own (:meth:`SettingsStore.changed`
    drops it, the same way).

    A write in this process drops the entry at once. On PostgreSQL, where several processes may
    share the database, the write is announced (:data:`SETTINGS_CHANNEL`) and every process
    drops its entry when it commits (:meth:`heard`). Entries also expire after ``ttl`` seconds:
    the fallback while that announcement can't be heard (the listening connection is down).
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, object]] = {}
        self._drops: dict[tuple[str, str], int] = {}
        self._clears = 0

    def token(self, key: tuple[str, str]) -> int:
        """Taken before a read: :meth:`put` keeps what was read only if no write dropped the
        entry meanwhile (a read that began before a write committed saw the old row)."""
        return self._drops.get(key, 0) + self._clears  # both only grow: any drop changes it

    def heard(self, payload: str) -> None:
        """Another process (or this one) announced a settings write: drop that entry."""
        try:
            community, feature = json.loads(payload)
        except (ValueError, TypeError):
            self.clear()  # not understood: forget everything rather than serve a stale value
            return
        self.drop((str(community), str(feature)))

    def clear(self) -> None:
        """Forget every entry (announcements may have been missed: the listener reconnected)."""
        self._entries.clear()
        self._clears += 1

    def get(self, key: tuple[str, str], cls: type[T]) -> T | None:
        """The cached settings, if fresh and of the asked-for model."""
        entry = self._entries.get(key)
        if entry is None or time_monotonic() - entry[0] > self.ttl:
            return None
        value = entry[1]
        return value if isinstance(value, cls) and type(value) is cls else None

    def peek(self, key: tuple[str, str], cls: type[T]) -> tuple[T, bool] | None:
        """The cached settings even when expired, and whether they are fresh; None when there
        are none (never read, or dropped by a write in this process)."""
        entry = self._entries.get(key)
        if entry is None or not isinstance(entry[1], cls) or type(entry[1]) is not cls:
            return None
        return entry[1], time_monotonic() - entry[0] <= self.ttl

    def put(self, key: tuple[str, str], value: object, token: int | None = None) -> None:
        """Remember validated settings (read since ``token``, when given)."""
        if token is not None and token != self.token(key):
            return  # a write dropped the entry while this was being read
        self._entries[key] = (time_monotonic(), value)

    def drop(self, key: tuple[str, str]) -> None:
        """Forget one entry (its row is being written, or was just committed)."""
        self._entries.pop(key, None)
        self._drops[key] = self.token(key) + 1


_CACHES: WeakKeyDictionary[object, SettingsCache] = WeakKeyDictionary()


def use_cache(engine: object, cache: SettingsCache) -> None:
    """Share ``cache`` among every unit of work on this engine (the App does it once)."""
    _CACHES[engine] = cache


def cache_of(engine: object) -> SettingsCache | None:
    """The settings cache shared on this engine, if the App set one."""
    return _CACHES.get(engine)


class SettingsStore:
    """Reads and writes one feature's settings for one community inside a unit of work."""

    def __init__(self, session: AsyncSession, cache: SettingsCache | None = None) -> None:
        self.session = session
        self.cache = cache

    @classmethod
    def of(cls, uow: UnitOfWork) -> SettingsStore:
        """The store for a unit of work, with the process's settings cache."""
        return cls(uow.session, _CACHES.get(uow.session.bind))

    async def get(self, community: CommunityRef, cls: type[S], feature: str) -> S:
        """The stored settings merged over the model's defaults."""
        key = (community.key, feature)
        if self.cache is not None:
            cached = self.cache.get(key, cls)
            if cached is not None:
                return cached
        token = self.cache.token(key) if self.cache is not None else None
        value = await self._load(community, cls, feature)
        if self.cache is not None:
            self.cache.put(key, value, token)
        return value

    async def changed(self, community: CommunityRef, name: str) -> None:
        """What is cached under ``name`` for the community is being written in this unit of
        work: dropped now and again when it commits, in this process and (announced on
        PostgreSQL) in every other."""
        if self.cache is not None:
            cache, key = self.cache, (community.key, name)
            cache.drop(key)
            # Readers in other units of work see the old row until this commits (PostgreSQL):
            # drop again then, so nothing they cached meanwhile outlives the write.
            event.listen(
                self.session.sync_session, "after_commit", lambda _s: cache.drop(key), once=True
            )
        if self.session.get_bind().dialect.name == "postgresql":
            # Heard by every process's listener when this commits (not at all if it rolls back).
            announced = json.dumps([community.key, name])
            await self.session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": SETTINGS_CHANNEL, "payload": announced},
            )

    async def _load(self, community: CommunityRef, cls: type[S], feature: str) -> S:
        row = await self.session.get(CommunitySetting, (community.key, feature))
        data = row.data if row is not None else {}
        try:
            return cls.model_validate(data)
        except ValidationError:
            # A field was removed or tightened since the row was written: keep what still
            # validates rather than losing every setting of the feature.
            fields = cls.model_fields
            kept = {}
            for key, value in data.items():
                if key in fields:
                    try:
                        cls.model_validate({key: value})
                    except ValidationError:
                        continue
                    kept[key] = value
            return cls.model_validate(kept)

    async def put(
        self, community: CommunityRef, feature: str, value: FeatureSettings, now: datetime
    ) -> None:
        """Store the fields that differ from the defaults."""
        await self.changed(community, feature)
        data = value.model_dump(mode="json", exclude_defaults=True)
        row = await self.session.get(CommunitySetting, (community.key, feature))
        if row is None:
            self.session.add(
                CommunitySetting(
                    community_id=community.key, feature=feature, data=data, updated_at=now
                )
            )
        else:
            row.data = data
            row.updated_at = now
        await self.session.flush()
